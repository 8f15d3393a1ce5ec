#!/usr/bin/env node
// Extracts the official OP Stack predeploy bytecode from the forge-artifacts of the npm package
// @eth-optimism/contracts-bedrock (installed by scripts/bootstrap.sh into .tools/npm) and writes
// crates/chain/chainspec/artifacts/predeploys.json for the Rust genesis generator.
//
// Usage: node scripts/extract-predeploys.js [--bedrock DIR] [--out FILE] [--with-preinstalls]
//
// Output (keys sorted, deterministic):
// {
//   "source": "@eth-optimism/contracts-bedrock@<version>",
//   "missing": [<requested names without an artifact>],
//   "contracts": {
//     "<Name>": {
//       "compiler": "0.8.15+commit.e14f2714", "evmVersion": "london",
//       "deployedBytecode": "0x...",
//       "immutableReferences": { "<astId>": [{ "start": n, "length": 32 }, ...] },  // only if any
//       "immutableNames": { "<astId>": "<variable name>" },                        // only if any
//       "storageLayout": [{ "label", "slot", "offset", "type", "numberOfBytes" }]  // GasPriceOracle, L1Block
//     }
//   },
//   "preinstalls": { "<Name>": { "address": "0x...", "code": "0x..." } }             // only with --with-preinstalls
// }
// Immutable values are left as the compiler emitted them (zeros): whoever places the code in
// genesis writes the 32-byte values at each {start, length} of deployedBytecode.
'use strict';

const fs = require('fs');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const PACKAGE = '@eth-optimism/contracts-bedrock';

// Requested predeploys (duplicates and alternatives handled below).
const WANTED = [
  'Proxy',
  'ProxyAdmin',
  'L1Block',
  'GasPriceOracle',
  'L2ToL1MessagePasser',
  'L2CrossDomainMessenger',
  'L2StandardBridge',
  'L2ERC721Bridge',
  'SequencerFeeVault',
  'BaseFeeVault',
  'L1FeeVault',
  'OptimismMintableERC20Factory',
  'OptimismMintableERC721Factory',
  ['WETH9', 'WETH'], // first one that exists
  'GovernanceToken',
  'LegacyMessagePasser',
  'DeployerWhitelist',
  'L1BlockNumber',
  'SchemaRegistry',
  'EAS',
];
const WITH_STORAGE_LAYOUT = new Set(['GasPriceOracle', 'L1Block']);

function parseArgs(argv) {
  const opts = {
    bedrock: path.join(ROOT, '.tools/npm/node_modules', PACKAGE),
    out: path.join(ROOT, 'crates/chain/chainspec/artifacts/predeploys.json'),
    withPreinstalls: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--bedrock') opts.bedrock = path.resolve(argv[++i]);
    else if (a === '--out') opts.out = path.resolve(argv[++i]);
    else if (a === '--with-preinstalls') opts.withPreinstalls = true;
    else if (a === '-h' || a === '--help') {
      console.log('usage: extract-predeploys.js [--bedrock DIR] [--out FILE] [--with-preinstalls]');
      process.exit(0);
    } else {
      console.error(`extract-predeploys: unknown argument ${a}`);
      process.exit(2);
    }
  }
  return opts;
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// All artifact files, grouped by source file basename ("FeeVault.sol" -> [paths]).
function indexArtifacts(dir) {
  const bySourceBase = new Map();
  const walk = (d) => {
    for (const ent of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, ent.name);
      if (ent.isDirectory()) walk(p);
      else if (ent.name.endsWith('.json')) {
        const base = path.basename(path.dirname(p));
        if (!bySourceBase.has(base)) bySourceBase.set(base, []);
        bySourceBase.get(base).push(p);
      }
    }
  };
  walk(dir);
  for (const list of bySourceBase.values()) list.sort();
  return bySourceBase;
}

// The production artifact of contract `name`: <Name>.sol/<Name>.json preferably, otherwise
// any artifact whose compilation target is `name` and whose source lives under src/.
function findArtifact(index, name) {
  const direct = (index.get(`${name}.sol`) || []).filter((p) => path.basename(p) === `${name}.json`);
  const candidates = direct.length ? direct : [...index.values()].flat().filter((p) => {
    const b = path.basename(p);
    return b === `${name}.json` || (b.startsWith(`${name}.`) && /^\d+\.\d+\.\d+\.json$/.test(b.slice(name.length + 1)));
  });
  for (const p of candidates) {
    const a = readJson(p);
    const target = a.metadata && a.metadata.settings && a.metadata.settings.compilationTarget;
    if (!target) continue;
    const [src, cname] = Object.entries(target)[0];
    if (cname === name && src.startsWith('src/')) return { file: p, artifact: a, source: src };
  }
  return null;
}

// Names of immutable variables by AST id, looked up in the ASTs of the contract's source files
// compiled with the same compiler version (AST ids are only unique within one compilation).
function immutableNames(index, artifact, ids) {
  const wanted = new Set(ids.map(String));
  const found = {};
  const compiler = artifact.metadata.compiler.version;
  const walk = (n) => {
    if (Array.isArray(n)) {
      for (const x of n) walk(x);
    } else if (n && typeof n === 'object') {
      if (n.nodeType === 'VariableDeclaration' && n.mutability === 'immutable' && wanted.has(String(n.id))) {
        found[String(n.id)] = n.name;
      }
      for (const k of Object.keys(n)) if (typeof n[k] === 'object') walk(n[k]);
    }
  };
  for (const src of Object.keys(artifact.metadata.sources).sort()) {
    if (Object.keys(found).length === wanted.size) break;
    for (const p of index.get(path.basename(src)) || []) {
      const a = readJson(p);
      if (a.ast && a.ast.absolutePath === src && a.metadata && a.metadata.compiler.version === compiler) {
        walk(a.ast);
        break;
      }
    }
  }
  return found;
}

function hex0x(s) {
  if (typeof s !== 'string' || !/^(0x)?[0-9a-fA-F]*$/.test(s)) throw new Error(`not hex: ${String(s).slice(0, 40)}`);
  return (s.startsWith('0x') ? s : `0x${s}`).toLowerCase();
}

function extractContract(index, name, artifact) {
  const db = artifact.deployedBytecode;
  if (!db || !db.object) throw new Error(`${name}: artifact has no deployedBytecode.object`);
  if (db.linkReferences && Object.keys(db.linkReferences).length) {
    throw new Error(`${name}: deployed bytecode needs library linking`);
  }
  const entry = {
    compiler: artifact.metadata.compiler.version,
    evmVersion: artifact.metadata.settings.evmVersion,
    deployedBytecode: hex0x(db.object),
  };
  const refs = db.immutableReferences || {};
  const ids = Object.keys(refs).sort((a, b) => Number(a) - Number(b));
  if (ids.length) {
    entry.immutableReferences = {};
    for (const id of ids) {
      entry.immutableReferences[id] = refs[id]
        .map((r) => ({ start: r.start, length: r.length }))
        .sort((x, y) => x.start - y.start);
    }
    const names = immutableNames(index, artifact, ids);
    entry.immutableNames = {};
    for (const id of ids) {
      if (!(id in names)) throw new Error(`${name}: no name found for immutable AST id ${id}`);
      entry.immutableNames[id] = names[id];
    }
  }
  if (WITH_STORAGE_LAYOUT.has(name)) {
    const sl = artifact.storageLayout;
    if (!sl || !Array.isArray(sl.storage)) throw new Error(`${name}: artifact has no storageLayout`);
    entry.storageLayout = sl.storage.map((s) => ({
      label: s.label,
      slot: Number(s.slot),
      offset: s.offset,
      type: s.type,
      numberOfBytes: Number(sl.types[s.type].numberOfBytes),
    }));
  }
  return entry;
}

// Bytecode constants of src/libraries/Preinstalls.sol (Permit2 is a chain-id template: skipped).
function extractPreinstalls(bedrock) {
  const src = fs.readFileSync(path.join(bedrock, 'src/libraries/Preinstalls.sol'), 'utf8');
  const addrs = {};
  for (const m of src.matchAll(/address internal constant (\w+)\s*=\s*(0x[0-9a-fA-F]{40})\s*;/g)) addrs[m[1]] = m[2];
  const out = {};
  for (const m of src.matchAll(/bytes internal constant (\w+)Code\s*=\s*hex"([0-9a-fA-F]*)"\s*;/g)) {
    if (!(m[1] in addrs)) continue; // e.g. Permit2TemplateCode
    out[m[1]] = { address: addrs[m[1]], code: hex0x(m[2]) };
  }
  return out;
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k]);
    return o;
  }
  return v;
}

function main() {
  const opts = parseArgs(process.argv.slice(2));
  const pkgFile = path.join(opts.bedrock, 'package.json');
  if (!fs.existsSync(pkgFile)) {
    console.error(`extract-predeploys: ${PACKAGE} not found at ${opts.bedrock}; run scripts/bootstrap.sh first`);
    process.exit(1);
  }
  const pkg = readJson(pkgFile);
  const index = indexArtifacts(path.join(opts.bedrock, 'forge-artifacts'));

  const contracts = {};
  const missing = [];
  const seen = new Set();
  for (const want of WANTED) {
    const alternatives = Array.isArray(want) ? want : [want];
    if (alternatives.some((n) => seen.has(n))) continue;
    alternatives.forEach((n) => seen.add(n));
    let hit = null;
    for (const n of alternatives) {
      const found = findArtifact(index, n);
      if (found) {
        hit = { name: n, ...found };
        break;
      }
    }
    if (!hit) {
      missing.push(alternatives.join('|'));
      continue;
    }
    contracts[hit.name] = extractContract(index, hit.name, hit.artifact);
  }

  const result = {
    source: `${PACKAGE}@${pkg.version}`,
    missing,
    contracts,
  };
  if (opts.withPreinstalls) result.preinstalls = extractPreinstalls(opts.bedrock);

  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  fs.writeFileSync(opts.out, JSON.stringify(sortKeys(result), null, 1) + '\n');
  const names = Object.keys(contracts).sort();
  console.error(
    `extract-predeploys: wrote ${path.relative(process.cwd(), opts.out)} from ${result.source}: ` +
      `${names.length} contracts (${names.join(', ')})` +
      (missing.length ? `; missing: ${missing.join(', ')}` : '') +
      (result.preinstalls ? `; preinstalls: ${Object.keys(result.preinstalls).sort().join(', ')}` : ''),
  );
}

main();
