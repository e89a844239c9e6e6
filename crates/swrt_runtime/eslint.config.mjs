// ESLint for the JavaScript each realm runs (src/*/NN_*.js). scripts/setup.sh
// installs ESLint into this crate's node_modules; scripts/test.sh runs it.
import js from "@eslint/js";

export default [
  {
    // src/ here; js/ in crates that are features of their own (swrt_indexeddb),
    // linted with this config from their folder by scripts/test.sh.
    files: ["src/**/*.js", "js/**/*.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2024,
      // Each file is a classic script: an IIFE whose value loadExtScript returns.
      sourceType: "script",
      globals: {
        // deno_core's handle to its internals and primordials.
        __bootstrap: "readonly",
        // Web globals 01_web_platform.js installs on every realm's global
        // object before any other swrt script runs.
        URL: "readonly",
        setTimeout: "readonly",
        queueMicrotask: "readonly",
        structuredClone: "readonly",
      },
    },
    rules: {
      ...js.configs.recommended.rules,
      // A parameter named `_x` keeps a Web IDL operation's arity (its
      // `length`) where the implementation does not need the value.
      "no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
];
