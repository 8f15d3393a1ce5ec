#!/usr/bin/env node
// solc-shim: makes solc-js (npm `solc`) usable where a native `solc` binary is expected
// (forge: `solc = "<path to .tools/bin/solc>"` + `offline = true` in foundry.toml).
//
// Supported command lines (the subset forge uses):
//   solc --version
//   solc [--base-path DIR] [--include-path DIR]... [--allow-paths A,B] --standard-json [FILE]
// Standard JSON is read from FILE or stdin and the output JSON is written to stdout.
// Imports missing from the input are resolved from the filesystem like native solc does:
// the source unit name is tried under the base path (the cwd if none) and each include path;
// files outside base path, include paths and allow paths are refused.
//
// Set AEGIS_SOLC_SHIM_LOG=<file> to append every invocation's argv to that file.
// The `solc` package is looked up via NODE_PATH (set by the .tools/bin/solc wrapper),
// then next to this script, then in <repo>/.tools/npm/node_modules.
'use strict';

const fs = require('fs');
const path = require('path');

function loadSolc() {
  const candidates = [
    'solc',
    path.resolve(__dirname, '../../.tools/npm/node_modules/solc'),
  ];
  let lastErr;
  for (const c of candidates) {
    try {
      return require(c);
    } catch (e) {
      lastErr = e;
    }
  }
  process.stderr.write(`solc-shim: cannot load the npm package "solc": ${lastErr && lastErr.message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    version: false,
    help: false,
    standardJson: false,
    basePath: null,
    includePaths: [],
    allowPaths: [],
    inputFile: null,
    ignored: [],
  };
  const takeValue = (i, flag) => {
    const a = argv[i];
    const eq = a.indexOf('=');
    if (eq !== -1) return [a.slice(eq + 1), i];
    if (i + 1 >= argv.length) {
      process.stderr.write(`solc-shim: option ${flag} needs a value\n`);
      process.exit(2);
    }
    return [argv[i + 1], i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const flag = a.startsWith('--') ? a.split('=')[0] : a;
    switch (flag) {
      case '--version':
      case '-v':
        opts.version = true;
        break;
      case '--help':
      case '-h':
        opts.help = true;
        break;
      case '--standard-json':
        opts.standardJson = true;
        break;
      case '--base-path': {
        const [v, j] = takeValue(i, flag);
        opts.basePath = v;
        i = j;
        break;
      }
      case '--include-path': {
        const [v, j] = takeValue(i, flag);
        opts.includePaths.push(v);
        i = j;
        break;
      }
      case '--allow-paths': {
        const [v, j] = takeValue(i, flag);
        for (const p of v.split(',')) if (p) opts.allowPaths.push(p);
        i = j;
        break;
      }
      default:
        if (!a.startsWith('-') && opts.standardJson && opts.inputFile === null) {
          opts.inputFile = a;
        } else {
          // Flags that do not change standard-JSON output (e.g. --pretty-json) are ignored.
          opts.ignored.push(a);
        }
    }
  }
  return opts;
}

function nativeVersionString(solc) {
  // solc-js reports e.g. "0.8.37+commit.f401782d.Emscripten.clang"; tools parse the
  // "Version: X.Y.Z+commit.H.Platform" line of native solc.
  const v = solc.version().replace(/\.Emscripten\.clang$/, '.Linux.g++');
  return `solc, the solidity compiler commandline interface\nVersion: ${v}\n`;
}

function isWithin(file, dir) {
  const rel = path.relative(dir, file);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function makeImportCallback(opts) {
  const cwd = process.cwd();
  const base = opts.basePath ? path.resolve(cwd, opts.basePath) : cwd;
  const includes = opts.includePaths.map((p) => path.resolve(cwd, p));
  const allowed = [base, ...includes, ...opts.allowPaths.map((p) => path.resolve(cwd, p))];
  return function findImports(sourceUnitName) {
    const candidates = [];
    if (path.isAbsolute(sourceUnitName)) candidates.push(path.normalize(sourceUnitName));
    const rel = sourceUnitName.replace(/^\/+/, '');
    candidates.push(path.join(base, rel));
    for (const inc of includes) candidates.push(path.join(inc, rel));
    const tried = [];
    for (const cand of candidates) {
      let stat;
      try {
        stat = fs.statSync(cand);
      } catch (_) {
        tried.push(cand);
        continue;
      }
      if (!stat.isFile()) {
        tried.push(cand);
        continue;
      }
      let real = cand;
      try {
        real = fs.realpathSync(cand);
      } catch (_) {
        /* keep cand */
      }
      if (!allowed.some((d) => isWithin(cand, d) || isWithin(real, d))) {
        return { error: `File outside of allowed directories: ${cand}` };
      }
      return { contents: fs.readFileSync(cand, 'utf8') };
    }
    return { error: `File not found. Searched the following locations: ${tried.map((t) => `"${t}"`).join(', ')}` };
  };
}

function errorOutput(message) {
  return JSON.stringify({
    errors: [
      {
        component: 'general',
        formattedMessage: message,
        message,
        severity: 'error',
        type: 'JSONError',
      },
    ],
  });
}

function main() {
  const argv = process.argv.slice(2);
  if (process.env.AEGIS_SOLC_SHIM_LOG) {
    try {
      fs.appendFileSync(
        process.env.AEGIS_SOLC_SHIM_LOG,
        JSON.stringify({ cwd: process.cwd(), argv }) + '\n',
      );
    } catch (_) {
      /* logging is best effort */
    }
  }
  const opts = parseArgs(argv);
  if (opts.help) {
    process.stdout.write(
      'solc-shim (solc-js wrapper). Usage: solc --version | solc [--base-path D] [--include-path D]... [--allow-paths A,B] --standard-json [FILE]\n',
    );
    return 0;
  }
  const solc = loadSolc();
  if (opts.version) {
    process.stdout.write(nativeVersionString(solc));
    return 0;
  }
  if (!opts.standardJson) {
    process.stderr.write('solc-shim: only --version and --standard-json are supported\n');
    return 1;
  }
  let input;
  try {
    input = opts.inputFile ? fs.readFileSync(opts.inputFile, 'utf8') : fs.readFileSync(0, 'utf8');
  } catch (e) {
    process.stdout.write(errorOutput(`Cannot read standard JSON input: ${e.message}`) + '\n');
    return 0;
  }
  let output;
  try {
    output = solc.compile(input, { import: makeImportCallback(opts) });
  } catch (e) {
    output = errorOutput(`solc-js threw: ${e && e.stack ? e.stack : e}`);
  }
  process.stdout.write(output);
  process.stdout.write('\n');
  return 0;
}

process.exitCode = main();
