/**
 * The Grafana dashboard (issue 17) queries only metrics Parley registers, through the datasource
 * the compose file provisions: a renamed metric or a dropped datasource would leave a panel empty
 * without anyone noticing until an outage.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

interface Panel { title: string; datasource?: { uid?: string }; targets?: { expr: string }[] }
const dashboard = JSON.parse(readFileSync("docker/grafana/dashboards/parley.json", "utf8")) as { panels: Panel[] };

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });
}
const registered = new Set([...["src", "adapters"].flatMap(sources).map((f) => readFileSync(f, "utf8")).join("\n").matchAll(/name: "(parley_[a-z_]+)"/g)].map((m) => m[1]!));

describe("the Grafana dashboard", () => {
  it("queries only metrics Parley registers", () => {
    const queried = dashboard.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => [...t.expr.matchAll(/parley_[a-z_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ""))));
    expect(queried.length).toBeGreaterThanOrEqual(10);
    expect(queried.filter((name) => !registered.has(name))).toEqual([]);
  });

  it("uses the datasource the compose file provisions, and is provisioned from the directory compose mounts", () => {
    const ds = parse(readFileSync("docker/grafana/provisioning/datasources/prometheus.yaml", "utf8")) as { datasources: { uid: string }[] };
    const uids = new Set(ds.datasources.map((d) => d.uid));
    expect(dashboard.panels.filter((p) => !uids.has(p.datasource?.uid ?? "")).map((p) => p.title)).toEqual([]);
    const provider = parse(readFileSync("docker/grafana/provisioning/dashboards/parley.yaml", "utf8")) as { providers: { options: { path: string } }[] };
    const compose = readFileSync("docker/compose.yaml", "utf8");
    expect(compose).toContain(`./grafana/dashboards:${provider.providers[0]!.options.path}:ro`);
    expect(compose).toContain("./grafana/provisioning:/etc/grafana/provisioning:ro");
  });
});
