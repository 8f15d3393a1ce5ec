// ethers v6 against `aegis node --dev`: the wallet flow (balances, fee data, a transfer, a
// deploy, contract calls and a decoded revert) and its event machinery — `contract.on` over
// WebSocket (eth_subscribe) and over HTTP (polling filters), and `provider.on("block")`.
//
// Started by crates/node/tests/clients.rs with AEGIS_RPC, AEGIS_WS and AEGIS_CHAIN_ID.

import { after, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { ContractFactory, JsonRpcProvider, Network, WebSocketProvider, Wallet, Contract, parseEther } from "ethers";

const rpc = process.env.AEGIS_RPC;
const ws = process.env.AEGIS_WS;
const chainId = Number(process.env.AEGIS_CHAIN_ID ?? 901);
assert.ok(rpc && ws, "AEGIS_RPC and AEGIS_WS must name the node");

const network = Network.from(chainId);
const provider = new JsonRpcProvider(rpc, network, { staticNetwork: network, pollingInterval: 200 });
const wsProvider = new WebSocketProvider(ws, network);
after(async () => {
  // Listeners removed by the tests uninstall their filters in the background: let them finish.
  await new Promise((r) => setTimeout(r, 1000));
  provider.destroy();
  await wsProvider.destroy();
});
// The dev mnemonic's first account, funded in dev mode.
const wallet = new Wallet("0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80", provider);
const { abi, bytecode } = JSON.parse(readFileSync(new URL("../pinger.json", import.meta.url), "utf8"));
const recipient = "0x000000000000000000000000000000000000dEaD";

/// Resolves with the first value `start(found)` reports (it returns a stop function), or
/// rejects after `ms`.
function firstEvent(start, ms = 10_000) {
  return new Promise((resolve, reject) => {
    let stop = async () => {};
    const timer = setTimeout(async () => {
      await stop();
      reject(new Error(`nothing within ${ms} ms`));
    }, ms);
    stop = start(async (value) => {
      clearTimeout(timer);
      await stop();
      resolve(value);
    });
  });
}

let pinger;

test("network, balances, fee data and blocks with the L1-info deposit", async () => {
  assert.equal((await provider.getNetwork()).chainId, BigInt(chainId));
  assert.ok((await provider.getBalance(wallet.address)) > 0n);
  const fees = await provider.getFeeData();
  assert.ok(fees.maxFeePerGas > 0n && fees.gasPrice > 0n);
  const block = await provider.getBlock("latest", true);
  const first = block.prefetchedTransactions[0];
  assert.equal(first.type, 126);
  assert.equal(first.to, "0x4200000000000000000000000000000000000015");
});

test("a transfer is mined", async () => {
  const before = await provider.getBalance(recipient);
  const tx = await wallet.sendTransaction({ to: recipient, value: parseEther("0.001") });
  const receipt = await tx.wait();
  assert.equal(receipt.status, 1);
  assert.equal(await provider.getBalance(recipient), before + parseEther("0.001"));
  assert.equal((await provider.getTransaction(tx.hash)).blockNumber, receipt.blockNumber);
});

test("deploy, call, query past events and decode a revert", async () => {
  const contract = await new ContractFactory(abi, bytecode, wallet).deploy();
  await contract.waitForDeployment();
  pinger = new Contract(await contract.getAddress(), abi, wallet);
  await (await pinger.ping(5n)).wait();
  assert.equal(await pinger.last(), 5n);
  const events = await pinger.queryFilter(pinger.filters.Ping(wallet.address));
  assert.equal(events.length, 1);
  assert.equal(events[0].args.value, 5n);
  assert.equal(await pinger.fail(0n), 0n);
  await assert.rejects(pinger.fail(1n), (error) => {
    assert.equal(error.code, "CALL_EXCEPTION");
    assert.equal(error.reason, "value must be zero");
    return true;
  });
  await assert.rejects(pinger.fail.estimateGas(1n), (error) => {
    assert.equal(error.reason, "value must be zero");
    return true;
  });
});

for (const [transport, source] of [
  ["WebSocket", () => wsProvider],
  ["HTTP polling", () => provider],
]) {
  test(`new blocks over ${transport}`, async () => {
    const chosen = source();
    const number = await firstEvent((found) => {
      chosen.on("block", found);
      return () => chosen.off("block", found);
    });
    assert.ok(number > 0);
  });

  test(`contract.on over ${transport}`, async () => {
    assert.ok(pinger, "deployed by the test before");
    const watched = new Contract(await pinger.getAddress(), abi, source());
    const value = transport === "WebSocket" ? 21n : 22n;
    const seen = firstEvent((found) => {
      const listener = (from, v) => {
        if (v === value) found(from);
      };
      watched.on("Ping", listener);
      return () => watched.off("Ping", listener);
    });
    // The listener installs its subscription or filter first.
    await new Promise((r) => setTimeout(r, 500));
    await (await pinger.ping(value)).wait();
    assert.equal(await seen, wallet.address);
  });
}
