/** Import rules of DESIGN §7: bin → adapters → src, bin → src; never back; no adapter imports another; no cycles. */
module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", from: {}, to: { circular: true } },
    {
      name: "core-never-imports-adapters",
      comment: "src/ knows adapters only through the contract in src/adapter/",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^(adapters|bin)/" },
    },
    {
      name: "adapters-never-import-bin",
      severity: "error",
      from: { path: "^adapters/" },
      to: { path: "^bin/" },
    },
    {
      name: "no-adapter-imports-another",
      severity: "error",
      from: { path: "^adapters/([^/]+)/" },
      to: { path: "^adapters/", pathNot: ["^adapters/$1/"] },
    },
    {
      name: "only-bin-imports-adapter-registry",
      severity: "error",
      from: { path: "^(src|adapters)/", pathNot: "^adapters/index\\.ts$" },
      to: { path: "^adapters/index\\.ts$" },
    },
    {
      name: "bin-imports-only-the-adapter-list",
      comment: "bin/ sees adapters only through adapters/index.ts (each factory declares what its network brings).",
      severity: "error",
      from: { path: "^bin/" },
      to: { path: "^adapters/", pathNot: "^adapters/index\\.ts$" },
    },
    {
      name: "production-code-never-imports-tests",
      severity: "error",
      from: { path: "^(src|adapters|bin)/" },
      to: { path: "^(test|bench)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
