#!/usr/bin/env python3
"""Independent verifier for Scellé dossiers (docs/FORMAT.md), written from the format alone.

Uses only the Python standard library and the `cryptography` package (Ed25519).
Usage: verify_dossier.py DOSSIER --trusted-key KEY [--trusted-key KEY...] [--file PATH...]
       [--known-checkpoint FILE] [--json]
Exit status: 0 everything holds, 3 findings, 2 unreadable input.
"""
import argparse, base64, hashlib, hmac, json, os, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.exceptions import InvalidSignature

MANIFEST_HEADER = "scelle-dossier/1 manifest"
B64_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
H = lambda data: hashlib.sha256(data).digest()
node = lambda left, right: H(b"\x01" + left + right)
b64d = lambda s: base64.b64decode(s, validate=True)
unhex = lambda s: bytes.fromhex(s) if len(s) % 2 == 0 and set(s) <= set("0123456789abcdef") else b""

def parse_key(text):
    """C2SP verifier key: name+hexid+base64(0x01 || 32-byte Ed25519 key)."""
    name, key_id, blob = text.strip().split("+", 2)
    raw = b64d(blob)
    if len(raw) != 33 or raw[0] != 1 or H(name.encode() + b"\n" + raw)[:4].hex() != key_id:
        raise ValueError("bad verifier key")
    return name, bytes.fromhex(key_id), Ed25519PublicKey.from_public_bytes(raw[1:])

def open_note(note, key):
    """(text, None) if `key` (name, id, public key) signed the note; else (None, "unsigned"
    when no signature line names this key, "invalid" when one does but does not verify)."""
    split = note.rfind("\n\n")
    if split < 0:
        return None, "invalid"
    text, name, key_id, public = note[: split + 1], key[0], key[1], key[2]
    found = False
    for line in note[split + 2 :].rstrip("\n").split("\n"):
        signer, _, sig = line[2:].partition(" ")
        blob = base64.b64decode(sig) if set(sig) <= B64_CHARS else b""
        if not line.startswith("\u2014 ") or len(blob) < 5:
            return None, "invalid"
        if signer == name and blob[:4] == key_id:
            found = True
            try:
                public.verify(blob[4:], text.encode())
                return text, None
            except InvalidSignature:
                pass
    return None, "invalid" if found else "unsigned"

def climb(fn, sn, fr, sr, path):
    """The walk shared by RFC 9162 inclusion (2.1.3.2, result sr) and consistency (2.1.4.2)."""
    for c in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return (fr, sr) if sn == 0 else None

def verify_inclusion(index, size, leaf, proof, root):
    return index < size and (climb(index, size - 1, leaf, leaf, proof) or (0, 0))[1] == root

def verify_consistency(m, n, old, new, proof):
    if m == n or m == 0:
        return not proof and (m == 0 or old == new)
    if m > n or not proof:
        return False
    proof = [old] + proof if m & (m - 1) == 0 else proof
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    return climb(fn, sn, proof[0], proof[0], proof[1:]) == (old, new)

def jcs(value):
    """RFC 8785 for what entries hold (strings, integers, booleans, objects, arrays)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

def next_custody(state, kind, actor, to_user):
    """The custody state machine of docs/FORMAT.md: (new state, None) or (state, rule broken)."""
    holder, status, to = state
    if kind == "corrected":
        return (state, None) if actor == holder else (state, "not_holder")
    if status in ("destroyed", "returned"):
        return state, "after_destruction" if status == "destroyed" else "after_return"
    if status == "in_transit":
        if kind != "received":
            return state, "in_transit"
        return ((to, "in_custody", None), None) if actor == to else (state, "not_recipient")
    if kind == "received":
        return state, "no_pending_transfer"
    if actor != holder:
        return state, "not_holder"
    if kind == "transferred":
        if not to_user or to_user == holder:
            return state, "bad_recipient"
        return (holder, "in_transit", to_user), None
    if kind in ("returned", "destroyed"):
        return (holder, kind, None), None
    return state, None

CASE_MEMBER = {"case.opened": ("case", "id"), "evidence.registered": ("evidence", "case"),
               "dossier.issued": ("dossier", "case")}

def case_of(entry):
    """The case whose custody record the entry belongs to (docs/FORMAT.md, "The case's record")."""
    kind = entry.get("kind", "")
    member, field = ("custody", "case") if kind.startswith("custody.") else CASE_MEMBER.get(kind, (None, None))
    return (entry.get(member) or {}).get(field) if member else None

def verify(d, keys, files, known=None):
    """The findings, and the dossier's "as of" (its own dossier.issued entry) when it has one."""
    findings = []
    add = lambda code, **kw: findings.append(dict(code=code, **kw))
    if d.get("format") != "scelle-dossier/1":
        add("unsupported_format")
        return findings, None
    origin, case_id = d["origin"], d["case"]["id"]
    opened = [(k,) + open_note(d["checkpoint"], k) for k in keys if k[0] == origin]
    good = [(k, text) for k, text, _ in opened if text is not None]
    if not good:
        invalid = any(why == "invalid" for _, _, why in opened)
        add("checkpoint_invalid" if invalid else "key_not_trusted")
        return findings, None
    key, cp = good[0][0], good[0][1].split("\n")
    if cp[0] != origin or len(cp) < 4:
        add("checkpoint_invalid")
        return findings, None
    size, root = int(cp[1]), b64d(cp[2])
    entries, leaves, last = [], [], None
    for e in d["entries"]:
        seq = e["seq"]
        try:
            raw = b64d(e["entry"])
        except ValueError:
            add("entry_undecodable", seq=seq)
            continue
        leaf = H(b"\x00" + raw)
        if e["leaf_hash"] != base64.b64encode(leaf).decode():
            add("leaf_hash_mismatch", seq=seq)
        if not verify_inclusion(seq, size, leaf, [b64d(p) for p in e["inclusion_proof"]], root):
            add("inclusion_proof_fails", seq=seq)
        try:
            entry = json.loads(raw)
            if jcs(entry) != raw:
                raise ValueError("not canonical")
            if entry["seq"] != seq:
                add("entry_malformed", seq=seq)
            if entry["origin"] != origin:
                add("entry_other_log", seq=seq)
        except (ValueError, KeyError, TypeError):
            add("entry_malformed", seq=seq)
            entry = None
        if last is not None and seq <= last:
            add("entries_out_of_order", seq=seq)
        last = seq
        entries.append((seq, leaf, entry))
        leaves.append(seq.to_bytes(8, "big") + leaf)
    text = open_note(d["manifest"], key)[0]
    lines = text.rstrip("\n").split("\n") if text else []
    if len(lines) != 5 or lines[0] != MANIFEST_HEADER:
        add("manifest_invalid")
    else:
        cp_line = f"checkpoint {size} {base64.b64encode(root).decode()}"
        for what, want, got in zip(("origin", "case", "checkpoint"), (f"origin {origin}", f"case {case_id}", cp_line), lines[1:4]):
            if got != want:
                add("manifest_mismatch", what=what)
        _, m_count, m_digest = lines[4].split(" ")
        digest = base64.b64encode(H(b"".join(leaves))).decode()
        if int(m_count) != len(d["entries"]) or m_digest != digest:
            add("manifest_mismatch", what="entries")
    by_seq = {seq: leaf for seq, leaf, _ in entries}
    for seq, _, entry in entries:
        if entry and seq - 1 in by_seq and entry["prev"] != by_seq[seq - 1].hex():
            add("prev_link_broken", seq=seq)
    # The case's custody record: from format 2 on each entry of it but the opening links to the
    # one before (case_prev); the last is the dossier's own dossier.issued.
    newest, linked, last_entry, as_of = None, False, None, None
    for seq, leaf, entry in entries:
        if entry is None or case_of(entry) != case_id:
            continue
        if entry.get("v") == 2 and entry["kind"] != "case.opened":
            linked = True
            want = None if newest is None else {"leaf": newest[1].hex(), "seq": newest[0]}
            if entry.get("case_prev") != want:
                add("case_chain_broken", seq=seq)
        newest, last_entry = (seq, leaf), (seq, entry)
    if last_entry and last_entry[1]["kind"] == "dossier.issued":
        as_of = {"seq": last_entry[0], "time": last_entry[1]["time"], "tree_size": size}
    elif linked:
        add("dossier_not_issued")
    items, event_items, commitments, case_found = {}, {}, {}, False
    note = lambda c: c and commitments.__setitem__(c["record"], c["hmac"])
    for seq, _, entry in entries:
        if entry is None:
            continue
        kind, actor = entry["kind"], entry["actor"]["user"]
        body = entry.get(kind.split(".")[0], {})
        if kind == "case.opened" and body.get("id") == case_id:
            if case_found:
                add("case_opened_twice", seq=seq)
                continue
            case_found = True
            note(body.get("title")), note(body.get("jurisdiction_basis"))
            if body.get("reference") != d["case"]["reference"]:
                add("case_reference_mismatch")
        elif kind == "evidence.registered" and body.get("case") == case_id:
            if body["id"] in items:
                add("item_registered_twice", seq=seq)
                continue
            note(body.get("description")), note(body.get("location"))
            if body.get("parent") and body["parent"] not in items:
                add("unknown_item", seq=seq)
            items[body["id"]] = [(actor, "in_custody", None), True, body["hashes"]["sha256"]]
        elif kind.startswith("custody.") and body.get("case") == case_id:
            note(body.get("place")), note(body.get("reason"))
            item = items.get(body["item"])
            if item is None:
                add("unknown_item", seq=seq)
                continue
            if body.get("amends") and event_items.get(body["amends"]) != body["item"]:
                add("amends_unknown_event", seq=seq)
            event_items[body["id"]] = body["item"]
            if "sha256" in body and body.get("result") != ("match" if body["sha256"] == item[2] else "mismatch"):
                add("integrity_result_wrong", seq=seq)
            if item[1]:
                state, broken = next_custody(item[0], body["type"], actor, body.get("to_user"))
                if broken:
                    item[1] = False
                    add("custody_violation", seq=seq, rule=broken)
                item[0] = state
        elif kind == "dossier.issued" and body.get("case") == case_id:
            pass
        else:
            add("foreign_entry", seq=seq)
    if not case_found:
        add("case_missing")
    for o in d.get("openings", []):
        if o["record"] not in commitments:
            add("opening_unknown", record=o["record"])
            continue
        mac = hmac.new(unhex(o["salt"]), jcs(o["value"]), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(mac, commitments[o["record"]]):
            add("opening_fails", record=o["record"])
    proved_from = None
    if d.get("consistency"):
        old = open_note(d["consistency"]["checkpoint"], key)[0]
        old = old.split("\n") if old else None
        proof = [b64d(p) for p in d["consistency"]["proof"]]
        if not old or old[0] != origin or not verify_consistency(
            int(old[1]), size, b64d(old[2]), root, proof
        ):
            add("consistency_fails")
        else:
            proved_from = (int(old[1]), b64d(old[2]))
    if known is not None:
        text = open_note(known, key)[0]
        held = text.split("\n") if text else None
        if not held or held[0] != origin or len(held) < 4:
            add("known_checkpoint_invalid")
        elif int(held[1]) > size:
            add("older_than_known_checkpoint")
        elif int(held[1]) == size:
            if b64d(held[2]) != root:
                add("known_checkpoint_invalid")
        elif proved_from != (int(held[1]), b64d(held[2])):
            add("known_checkpoint_not_proven")
    registered = {item[2] for item in items.values()}
    for path in files:
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256")
        if digest.hexdigest() not in registered:
            add("file_not_registered", file=path)
    return findings, as_of

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("dossier")
    p.add_argument("--trusted-key", action="append", default=[])
    p.add_argument("--file", action="append", default=[])
    p.add_argument("--known-checkpoint")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    try:
        with open(args.dossier, "rb") as f:
            dossier = json.load(f)
        keys = [parse_key(open(k).read() if os.path.isfile(k) else k) for k in args.trusted_key]
        known = open(args.known_checkpoint).read() if args.known_checkpoint else None
        findings, as_of = verify(dossier, keys, args.file, known)
    except (OSError, ValueError, KeyError, TypeError) as e:
        print(f"illisible / unreadable: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps({"ok": not findings, "as_of": as_of, "findings": findings}, indent=2))
    else:
        if as_of:
            print(f"ÉTAT AU / AS OF {as_of['time']} (seq {as_of['seq']}, {as_of['tree_size']} entries)")
        for f in findings:
            print("FINDING", json.dumps(f))
        print("VERIFIED / VÉRIFIÉ" if not findings else "FAILED / ÉCHEC")
    return 0 if not findings else 3

if __name__ == "__main__":
    sys.exit(main())
