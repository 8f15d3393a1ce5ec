// viem 2.x against `aegis node --dev`, as a dapp developer uses it: reads, fees, sends, a
// deploy, contract writes and simulations, logs, proofs, OP receipt fields, and block and
// contract-event watchers over WebSocket and over HTTP polling (filters).
//
// Started by crates/node/tests/clients.rs with AEGIS_RPC (http://…), AEGIS_WS (ws://…) and
// AEGIS_CHAIN_ID; `node --test` runs it.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import {
  BaseError,
  ContractFunctionRevertedError,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  parseEther,
  webSocket,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { chainConfig, publicActionsL2 } from "viem/op-stack";

const rpc = process.env.AEGIS_RPC;
const ws = process.env.AEGIS_WS;
const chainId = Number(process.env.AEGIS_CHAIN_ID ?? 901);
assert.ok(rpc && ws, "AEGIS_RPC and AEGIS_WS must name the node");

const chain = defineChain({
  ...chainConfig,
  id: chainId,
  name: "aegis dev",
  nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
  rpcUrls: { default: { http: [rpc], webSocket: [ws] } },
});
// The dev mnemonic's first account ("test test … junk", m/44'/60'/0'/0/0), funded in dev mode.
const account = privateKeyToAccount(
  "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
);
const client = createPublicClient({ chain, transport: http(rpc) }).extend(publicActionsL2());
const wallet = createWalletClient({ account, chain, transport: http(rpc) });
const wsClient = createPublicClient({ chain, transport: webSocket(ws) });
// An open socket would keep the test process alive.
after(async () => (await wsClient.transport.getRpcClient()).close());

// The contract every client suite deploys (source, ABI and bytecode in ../pinger.json).
const pingerJson = JSON.parse(readFileSync(new URL("../pinger.json", import.meta.url), "utf8"));
const { abi, bytecode } = pingerJson;

const recipient = "0x000000000000000000000000000000000000dEaD";

/// Resolves with the first value `start(onValue)` reports, or rejects after `ms`.
function firstEvent(start, ms = 10_000) {
  return new Promise((resolve, reject) => {
    let unwatch = () => {};
    const timer = setTimeout(() => {
      unwatch();
      reject(new Error(`nothing within ${ms} ms`));
    }, ms);
    unwatch = start((value) => {
      clearTimeout(timer);
      unwatch();
      resolve(value);
    }, (error) => {
      clearTimeout(timer);
      unwatch();
      reject(error);
    });
  });
}

let pinger;

test("chain id, and blocks that open with the L1-info deposit", async () => {
  assert.equal(await client.getChainId(), chainId);
  const block = await client.getBlock({ includeTransactions: true });
  assert.ok(block.number >= 1n);
  assert.equal(block.transactions[0].type, "deposit");
  assert.equal(block.transactions[0].to, "0x4200000000000000000000000000000000000015");
});

test("fee estimates and the L1 data fee", async () => {
  const fees = await client.estimateFeesPerGas();
  assert.ok(fees.maxFeePerGas > 0n && fees.maxPriorityFeePerGas >= 0n);
  const l1Fee = await client.estimateL1Fee({ account, to: recipient, value: 1n });
  assert.equal(typeof l1Fee, "bigint");
  assert.ok(l1Fee > 0n, `L1 fee ${l1Fee}`);
});

test("a transfer is included, with the OP receipt fields", async () => {
  const before = await client.getBalance({ address: recipient });
  const hash = await wallet.sendTransaction({ to: recipient, value: parseEther("0.001") });
  const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 200 });
  assert.equal(receipt.status, "success");
  assert.equal(typeof receipt.l1Fee, "bigint");
  assert.equal(typeof receipt.l1GasUsed, "bigint");
  assert.equal(await client.getBalance({ address: recipient }), before + parseEther("0.001"));
});

test("deploy, write, read, logs and proofs", async () => {
  const hash = await wallet.deployContract({ abi, bytecode });
  const deployed = await client.waitForTransactionReceipt({ hash, pollingInterval: 200 });
  assert.equal(deployed.status, "success");
  pinger = deployed.contractAddress;
  assert.ok(pinger);

  const write = await wallet.writeContract({ address: pinger, abi, functionName: "ping", args: [7n] });
  const receipt = await client.waitForTransactionReceipt({ hash: write, pollingInterval: 200 });
  assert.equal(receipt.status, "success");
  assert.equal(await client.readContract({ address: pinger, abi, functionName: "last" }), 7n);

  const logs = await client.getContractEvents({
    address: pinger,
    abi,
    eventName: "Ping",
    fromBlock: receipt.blockNumber,
    toBlock: receipt.blockNumber,
  });
  assert.equal(logs.length, 1);
  assert.equal(logs[0].args.value, 7n);
  assert.equal(logs[0].args.from, account.address);

  const proof = await client.getProof({
    address: pinger,
    storageKeys: ["0x0000000000000000000000000000000000000000000000000000000000000000"],
    blockNumber: receipt.blockNumber,
  });
  assert.equal(proof.storageProof[0].value, 7n);
  assert.ok(proof.accountProof.length > 0);
});

test("simulateContract decodes the revert reason", async () => {
  assert.ok(pinger, "deployed by the test before");
  const { result } = await client.simulateContract({
    address: pinger,
    abi,
    functionName: "fail",
    args: [0n],
    account,
  });
  assert.equal(result, 0n);
  await assert.rejects(
    client.simulateContract({ address: pinger, abi, functionName: "fail", args: [1n], account }),
    (error) => {
      assert.ok(error instanceof BaseError);
      const revert = error.walk((e) => e instanceof ContractFunctionRevertedError);
      assert.ok(revert, `${error}`);
      assert.equal(revert.reason, "value must be zero");
      return true;
    },
  );
});

for (const [transport, options] of [
  ["WebSocket", {}],
  ["HTTP polling", { poll: true, pollingInterval: 200 }],
]) {
  test(`watchBlocks over ${transport}`, async () => {
    const watcher = transport === "WebSocket" ? wsClient : client;
    const block = await firstEvent((found, failed) =>
      watcher.watchBlocks({ ...options, onBlock: found, onError: failed }),
    );
    assert.ok(block.number > 0n);
    assert.match(block.hash, /^0x[0-9a-f]{64}$/);
  });

  test(`watchContractEvent over ${transport}`, async () => {
    assert.ok(pinger, "deployed by the test before");
    const watcher = transport === "WebSocket" ? wsClient : client;
    const value = transport === "WebSocket" ? 11n : 12n;
    const seen = firstEvent((found, failed) =>
      watcher.watchContractEvent({
        ...options,
        address: pinger,
        abi,
        eventName: "Ping",
        onLogs: (logs) => {
          const mine = logs.find((log) => log.args.value === value);
          if (mine) found(mine);
        },
        onError: failed,
      }),
    );
    // The watcher installs its subscription or filter first.
    await new Promise((r) => setTimeout(r, 500));
    await wallet.writeContract({ address: pinger, abi, functionName: "ping", args: [value] });
    const log = await seen;
    assert.equal(log.args.from, account.address);
  });
}
