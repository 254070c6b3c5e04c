/** The console's one stylesheet (served at /console/style.css: the CSP allows no inline style). */
export const STYLE = `
:root { font-family: system-ui, sans-serif; color: #1d232a; background: #f6f7f9; }
body { margin: 0; }
header { background: #22313f; color: #fff; padding: .6rem 1rem; }
nav { display: flex; gap: 1rem; align-items: center; background: #fff; border-bottom: 1px solid #d8dde3; padding: .5rem 1rem; }
nav a { color: #22313f; text-decoration: none; }
nav a[aria-current="page"] { font-weight: 600; border-bottom: 2px solid #2e7dd7; }
nav .logout { margin-left: auto; }
main { padding: 1rem 1.5rem; max-width: 1200px; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.5rem; }
table { border-collapse: collapse; background: #fff; margin: .5rem 0; }
th, td { border: 1px solid #d8dde3; padding: .3rem .5rem; text-align: left; vertical-align: middle; font-size: .9rem; }
th { background: #eef1f4; }
code { font-size: .85rem; }
.muted { color: #65707b; }
.ok { color: #176c2f; } .bad { color: #a4161a; }
.badge { padding: .1rem .45rem; border-radius: .6rem; font-size: .8rem; color: #fff; }
.badge.ok { background: #238636; } .badge.bad { background: #c62828; }
form.inline { display: inline; }
form.search label, form.login label { margin-right: .8rem; }
button { padding: .25rem .7rem; } button.danger { color: #a4161a; }
textarea { font-family: ui-monospace, monospace; font-size: .85rem; width: 100%; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .2rem 1rem; }
dl.facts dt { font-weight: 600; }
svg.spark rect { fill: #2e7dd7; } svg.spark.fail rect { fill: #c62828; }
svg.spark { vertical-align: middle; background: #fff; border: 1px solid #e3e7eb; }
svg.timeline { background: #fff; border: 1px solid #d8dde3; margin: .5rem 0; }
svg.timeline text { font-size: 11px; fill: #1d232a; }
svg.timeline line { stroke: #8a949e; }
svg.timeline .hop rect { fill: #2e7dd7; } svg.timeline .hop.ok rect { fill: #238636; } svg.timeline .hop.bad rect { fill: #c62828; }
span.hop.ok { color: #176c2f; font-weight: 600; } span.hop.bad { color: #a4161a; font-weight: 600; }
ul.problems { margin: .3rem 0; }
`;
