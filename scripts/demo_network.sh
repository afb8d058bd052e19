#!/usr/bin/env bash
# The Entente network in one command: five state nodes on loopback (Bénin, Burkina Faso, Côte
# d'Ivoire, Niger, Togo), each with its own folder, database, keys and certificate between
# nodes, each the witness of the four others and each publishing only what 3 of them cosigned.
# It opens a case in Benin, shows Benin's cosigned checkpoint, checks Benin's dossier with
# `scelle verify --policy` as Togo's prosecutor would, then shares the case with Togo and sends
# it: Togo verifies and imports it under Benin's conditions, and both logs record it. Everything is stopped and removed at the
# end (DEMO_KEEP=1 keeps the folders).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --bin scelle
BIN="${CARGO_TARGET_DIR:-target}/debug/scelle"
WORK=$(mktemp -d)
PIDS=()
stop() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [ "${DEMO_KEEP:-0}" = 1 ] && echo "folders kept in $WORK" || rm -rf "$WORK"
}
trap stop EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

STATES=(bj.police.ocrc bf.police.dpj ci.police.plcc ne.police.dpj tg.police.dcpj)
declare -A PORT PEER_PORT TOKEN
for agency in "${STATES[@]}"; do
  dir="$WORK/$agency"
  TOKEN[$agency]=$("$BIN" --data-dir "$dir" init --origin "$agency/scelle" --agency "$agency" \
    --agency-name "$agency" | tail -1)
  PORT[$agency]=$(free_port); PEER_PORT[$agency]=$(free_port)
  "$BIN" --data-dir "$dir" peer init --url "https://127.0.0.1:${PEER_PORT[$agency]}" >/dev/null
done
# Each node's operator runs the line every other node prints with `scelle peer identity`.
for agency in "${STATES[@]}"; do
  for other in "${STATES[@]}"; do
    [ "$agency" = "$other" ] && continue
    card=$("$BIN" --data-dir "$WORK/$other" peer identity | grep '^scelle peer add ')
    "$BIN" --data-dir "$WORK/$agency" ${card#scelle } >/dev/null
  done
  "$BIN" --data-dir "$WORK/$agency" peer quorum 3 >/dev/null
done
for agency in "${STATES[@]}"; do
  "$BIN" --data-dir "$WORK/$agency" serve --listen "127.0.0.1:${PORT[$agency]}" \
    --peer-listen "127.0.0.1:${PEER_PORT[$agency]}" >/dev/null 2>"$WORK/$agency.log" &
  PIDS+=($!)
done
for agency in "${STATES[@]}"; do
  for _ in $(seq 100); do curl -sf "localhost:${PORT[$agency]}/healthz" >/dev/null && break; sleep 0.1; done
done

BJ=bj.police.ocrc
BJ_URL="localhost:${PORT[$BJ]}"
ADMIN="Authorization: Bearer ${TOKEN[$BJ]}"
INV=$(curl -sf -X POST "$BJ_URL/api/v1/users" -H "$ADMIN" -H 'Content-Type: application/json' \
  -d '{"name":"Enquêteur OCRC","role":"investigator","agency":"bj.police.ocrc"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
CASE_ID=$(curl -sf -X POST "$BJ_URL/api/v1/cases" -H "Authorization: Bearer $INV" \
  -H 'Content-Type: application/json' \
  -d '{"reference":"BJ-OCRC-2026-00007","jurisdiction":"BJ","offence":"Budapest art. 8","legal_basis":"Réquisition 2026/118"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["case"]["id"])')
echo "== Benin's checkpoint, cosigned by its peers (C2SP tlog-cosignature lines under its own):"
for _ in $(seq 100); do
  curl -sf "$BJ_URL/log/checkpoint" -H "$ADMIN" -o "$WORK/checkpoint" && break; sleep 0.1
done
cat "$WORK/checkpoint"
echo "== Benin's dossier, checked by a prosecutor in Togo against the peer policy Benin publishes (3 of its 4 peers):"
curl -sf "$BJ_URL/api/v1/cases/$CASE_ID/dossier" -H "Authorization: Bearer $INV" -o "$WORK/dossier.json"
"$BIN" verify "$WORK/dossier.json" --policy "$WORK/bj.police.ocrc/peers.policy"
echo "== What Togo witnessed:"
"$BIN" --data-dir "$WORK/tg.police.dcpj" peer list

TG=tg.police.dcpj
TG_URL="localhost:${PORT[$TG]}"
echo "== Benin shares the case with Togo (H1: not for court without consent) and sends its dossier:"
curl -sf -X POST "$BJ_URL/api/v1/cases/$CASE_ID/shares" -H "Authorization: Bearer $INV" \
  -H 'Content-Type: application/json' \
  -d '{"state":"TG","handling":["H1"],"purposes":["investigation"],"expires_at":"2031-01-01T00:00:00Z","legal_basis":"Budapest art. 26, information spontanée"}' >/dev/null
TRANSFER=$(curl -sf -X POST "$BJ_URL/api/v1/cases/$CASE_ID/transfers" -H "Authorization: Bearer $INV" \
  -H 'Content-Type: application/json' -d '{"peer":"tg.police.dcpj"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["transfer"])')
PROC=$(curl -sf -X POST "$TG_URL/api/v1/users" -H "Authorization: Bearer ${TOKEN[$TG]}" \
  -H 'Content-Type: application/json' \
  -d '{"name":"Procureure de Lomé","role":"prosecutor","agency":"tg.police.dcpj"}' \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
for _ in $(seq 100); do
  curl -sf "$TG_URL/api/v1/received" -H "Authorization: Bearer $PROC" | grep -q "$TRANSFER" && break
  sleep 0.1
done
echo "== Togo imported it; its prosecutor reads it for an investigation and checks it against Togo's own peer policy:"
curl -sf "$TG_URL/api/v1/received/$TRANSFER?purpose=investigation" -H "Authorization: Bearer $PROC" \
  -o "$WORK/received.json"
"$BIN" verify "$WORK/received.json" --policy "$WORK/tg.police.dcpj/peers.policy"
echo "== Benin's conditions hold in Togo: reading it for prosecution is refused (H1, no consent):"
curl -s "$TG_URL/api/v1/received/$TRANSFER?purpose=prosecution" -H "Authorization: Bearer $PROC"; echo
echo "== Both logs record it: Togo's dossier.received, Benin's dossier.sent naming Togo's entry:"
"$BIN" --data-dir "$WORK/tg.police.dcpj" peer inbox
for _ in $(seq 100); do
  curl -sf "$BJ_URL/api/v1/cases/$CASE_ID/transfers" -H "Authorization: Bearer $INV" | grep -q '"delivered"' && break
  sleep 0.1
done
curl -sf "$BJ_URL/api/v1/cases/$CASE_ID/transfers" -H "Authorization: Bearer $INV"; echo
