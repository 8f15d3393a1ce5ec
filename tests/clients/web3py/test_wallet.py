"""web3.py 7 against `aegis node --dev`: the wallet flow (chain id, blocks with the L1-info
deposit, a signed transfer, a deploy, contract calls and a decoded revert) and its filters
(`create_filter` on events and `w3.eth.filter("latest")`, which poll eth_getFilterChanges) and
WebSocket subscriptions (`AsyncWeb3` with `WebSocketProvider`).

Started by crates/node/tests/clients.rs with AEGIS_RPC, AEGIS_WS and AEGIS_CHAIN_ID:
`python -m unittest -v` in this directory.
"""

import asyncio
import json
import os
import time
import unittest
from pathlib import Path

from web3 import AsyncWeb3, Web3
from web3.exceptions import ContractLogicError
from web3.providers.persistent import WebSocketProvider

RPC = os.environ["AEGIS_RPC"]
WS = os.environ["AEGIS_WS"]
CHAIN_ID = int(os.environ.get("AEGIS_CHAIN_ID", "901"))
# The dev mnemonic's first account, funded in dev mode.
KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
PINGER = json.loads((Path(__file__).parent.parent / "pinger.json").read_text())
RECIPIENT = Web3.to_checksum_address("0x000000000000000000000000000000000000dead")

w3 = Web3(Web3.HTTPProvider(RPC))
account = w3.eth.account.from_key(KEY)


def send(tx: dict) -> dict:
    """Fills in what a wallet fills in, signs with the dev key, sends, waits for the receipt."""
    tx = {
        "from": account.address,
        "nonce": w3.eth.get_transaction_count(account.address, "pending"),
        "chainId": CHAIN_ID,
        **tx,
    }
    tx.setdefault("gas", w3.eth.estimate_gas(tx))
    tx.setdefault("maxFeePerGas", w3.eth.gas_price * 2)
    tx.setdefault("maxPriorityFeePerGas", w3.eth.max_priority_fee)
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.2)


def wait_for(what, check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {timeout} s")


class Wallet(unittest.TestCase):
    pinger = None

    @classmethod
    def setUpClass(cls):
        contract = w3.eth.contract(abi=PINGER["abi"], bytecode=PINGER["bytecode"])
        receipt = send(contract.constructor().build_transaction({"from": account.address}))
        assert receipt["status"] == 1
        cls.pinger = w3.eth.contract(address=receipt["contractAddress"], abi=PINGER["abi"])

    def test_chain_and_blocks(self):
        self.assertEqual(w3.eth.chain_id, CHAIN_ID)
        block = w3.eth.get_block("latest", full_transactions=True)
        first = block["transactions"][0]
        self.assertEqual(first["type"], 0x7E)
        self.assertEqual(first["to"], "0x4200000000000000000000000000000000000015")

    def test_transfer(self):
        before = w3.eth.get_balance(RECIPIENT)
        receipt = send({"to": RECIPIENT, "value": w3.to_wei(1, "gwei")})
        self.assertEqual(receipt["status"], 1)
        self.assertEqual(w3.eth.get_balance(RECIPIENT), before + w3.to_wei(1, "gwei"))

    def test_calls_and_reverts(self):
        receipt = send(self.pinger.functions.ping(3).build_transaction({"from": account.address}))
        self.assertEqual(receipt["status"], 1)
        self.assertEqual(self.pinger.functions.last().call(), 3)
        logs = self.pinger.events.Ping().process_receipt(receipt)
        self.assertEqual(logs[0]["args"]["value"], 3)
        self.assertEqual(self.pinger.functions.fail(0).call(), 0)
        with self.assertRaises(ContractLogicError) as refused:
            self.pinger.functions.fail(1).call()
        self.assertIn("value must be zero", str(refused.exception))

    def test_filters(self):
        blocks = w3.eth.filter("latest")
        events = self.pinger.events.Ping.create_filter(from_block="latest")
        send(self.pinger.functions.ping(4).build_transaction({"from": account.address}))
        new_blocks = wait_for("new block", blocks.get_new_entries)
        self.assertTrue(all(len(h) == 32 for h in new_blocks))
        entries = wait_for("Ping event", events.get_new_entries)
        self.assertEqual(entries[-1]["args"]["value"], 4)
        self.assertTrue(w3.eth.uninstall_filter(blocks.filter_id))
        self.assertFalse(w3.eth.uninstall_filter(blocks.filter_id))

    def test_websocket_subscriptions(self):
        async def first_head():
            async with AsyncWeb3(WebSocketProvider(WS)) as aw3:
                subscription = await aw3.eth.subscribe("newHeads")
                self.assertTrue(subscription.startswith("0x"))
                async for message in aw3.socket.process_subscriptions():
                    return message["result"]

        head = asyncio.run(asyncio.wait_for(first_head(), timeout=15))
        self.assertGreater(head["number"], 0)


if __name__ == "__main__":
    unittest.main()
