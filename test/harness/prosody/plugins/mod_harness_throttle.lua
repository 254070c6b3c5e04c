-- Test harness only (test/harness/prosody): an inbound message budget per user, which the user
-- sets herself with <iq type='set'><throttle xmlns='urn:parley:harness:throttle' messages='N'/></iq>
-- (no `messages`: no budget). Once the budget is spent, Prosody refuses every further chat or
-- normal message to her with a `wait` / `resource-constraint` error (RFC 6120 8.3.3.18, the
-- condition Prosody's own quotas use), which the sender gets later, as a bounce: a server asking
-- to slow down. Stock Prosody 0.12 has no module that refuses a message to a local user so.
local st = require "util.stanza";
local jid_bare = require "util.jid".bare;

local xmlns = "urn:parley:harness:throttle";
local budgets = {}; -- bare JID -> messages still let through

module:hook("iq-set/self/"..xmlns..":throttle", function(event)
	local origin, stanza = event.origin, event.stanza;
	budgets[origin.username.."@"..origin.host] = tonumber(stanza.tags[1].attr.messages);
	origin.send(st.reply(stanza));
	return true;
end);

local function throttle(event)
	local origin, stanza = event.origin, event.stanza;
	local t = stanza.attr.type;
	if t ~= nil and t ~= "chat" and t ~= "normal" then return; end
	local bare = jid_bare(stanza.attr.to);
	local left = budgets[bare];
	if left == nil then return; end
	if left > 0 then
		budgets[bare] = left - 1;
		return;
	end
	origin.send(st.error_reply(stanza, "wait", "resource-constraint", "Message budget spent; try again later"));
	return true;
end

module:hook("message/bare", throttle, 200);
module:hook("message/full", throttle, 200);
