/** Quote and signature stripping (adapters/email/quotes.ts): a reply by email reads like chat (T-5.4.4). */
import { describe, expect, it } from "vitest";
import { stripQuotes } from "../../../adapters/email/quotes.js";

describe("quote stripping", () => {
  const cases: Array<[string, string, string, boolean]> = [
    ["gmail attribution + quote", "Sounds good!\n\nOn Mon, 23 Nov 2026 at 10:00, Alice <alice@chat.example.org> wrote:\n> Lunch?\n> At noon", "Sounds good!", true],
    ["attribution wrapped on two lines", "Yes\n\nOn Mon, 23 Nov 2026 at 10:00, Alice Liddell\n<alice@chat.example.org> wrote:\n\n> Lunch?", "Yes", true],
    ["content line starting with On is kept", "On it!\nOn Mon, Alice wrote:\n> can you?", "On it!", true],
    ["french", "Oui\n\nLe lun. 23 nov. 2026 à 10:00, Alice a écrit :\n> Déjeuner ?", "Oui", true],
    ["german", "Ja\n\nAm 23.11.2026 um 10:00 schrieb Alice <a@b.c>:\n> Mittag?", "Ja", true],
    ["signature (RFC 3676 §4.3)", "See you\n-- \nCarol\nExample Org", "See you", true],
    ["outlook original message", "Fine\n\n-----Original Message-----\nFrom: Alice\nSent: Monday\nLunch?", "Fine", true],
    ["outlook header block", "Fine\n\nFrom: Alice <a@b.c>\nSent: Monday, 23 November 2026 10:00\nTo: Carol\nLunch?", "Fine", true],
    ["inline replies keep their quotes", "> Lunch?\nYes\n> Where?\nThe usual place", "> Lunch?\nYes\n> Where?\nThe usual place", false],
    ["plain text untouched", "just a message\nwith two lines", "just a message\nwith two lines", false],
    ["only a quote: kept rather than emptied", "> everything quoted", "> everything quoted", false],
    ["CRLF input", "ok\r\n\r\nOn Mon, Alice wrote:\r\n> hi\r\n", "ok", true],
  ];
  for (const [name, input, text, stripped] of cases) {
    it(`T-5.4.4 ${name}`, () => {
      expect(stripQuotes(input)).toEqual({ text, stripped });
    });
  }
});
