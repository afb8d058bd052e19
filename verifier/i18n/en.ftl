# Scellé's message catalogue — English.
# Every key also exists in fr.ftl, with the same arguments (checked by the tests).

## Dossier verifier findings

finding-unsupported-format = Unsupported dossier format: "{ $format }".
finding-key-not-trusted = The checkpoint is not signed by any trusted key given (--trusted-key). Key in the dossier: { $key } — compare it with the key the node published.
finding-checkpoint-invalid = Invalid checkpoint: { $reason }.
finding-manifest-invalid = The dossier's signed manifest is invalid: { $reason }.
finding-manifest-mismatch = The dossier does not match its signed manifest ({ $what }): entries were removed, added or changed.
finding-entries-out-of-order = Entry { $seq }: the entries are not in log order.
finding-entry-undecodable = Entry { $seq }: the bytes are not valid base64.
finding-leaf-hash-mismatch = Entry { $seq }: the leaf hash does not match the bytes.
finding-inclusion-proof-fails = Entry { $seq }: the inclusion proof does not lead to the signed checkpoint (entry or proof changed).
finding-entry-malformed = Entry { $seq }: malformed ({ $reason }).
finding-entry-other-log = Entry { $seq }: it belongs to another log.
finding-prev-link-broken = Entry { $seq }: the `prev` link to the previous entry is broken.
finding-case-missing = The case's opening entry is not in the dossier.
finding-case-reference-mismatch = The dossier presents itself as case "{ $claimed }", but its signed opening bears the reference "{ $signed }".
finding-foreign-entry = Entry { $seq }: it does not belong to this case.
finding-unknown-item = Entry { $seq }: item { $item } was not registered before.
finding-custody-violation = Entry { $seq }: chain of custody broken for item { $item } — event { $rule }.
finding-amends-unknown-event = Entry { $seq }: amends event { $event }, which the dossier does not hold for this item.
finding-opening-fails = Opened value { $record } does not match its commitment in the log.
finding-opening-unknown = Opened value { $record } matches no commitment in the dossier.
finding-consistency-fails = The log does not extend the earlier checkpoint given: { $reason }.
finding-file-not-registered = File { $file } (SHA-256 { $sha256 }) matches no registered item.

## Custody rules (inside a finding: "event …")

custody-rule-not-holder = by someone who did not hold it
custody-rule-after-destruction = after its destruction
custody-rule-after-return = after its return
custody-rule-in-transit = while a transfer was not yet received
custody-rule-no-pending-transfer = receipt with no pending transfer
custody-rule-not-recipient = receipt by someone other than the recipient
custody-rule-bad-recipient = transfer without a valid recipient

## Custody errors (the node's answers)

custody-not-holder = Only the current holder of the item may record this event.
custody-destroyed = The item was destroyed: no event may follow.
custody-returned = The item was returned and is no longer in custody.
custody-in-transit = The item is in transit: the recipient must first acknowledge receipt.
custody-no-pending-transfer = There is no pending transfer for this receipt.
custody-not-recipient = Only the recipient named in the transfer may acknowledge it.
custody-bad-recipient = A transfer needs a recipient other than the holder.

## Offline verification (scelle verify, scelle-verify)

offline-read-failed = { $path }: cannot read: { $reason }
offline-not-a-dossier = { $path }: not a Scellé dossier: { $reason }
offline-bad-trusted-key = Invalid trusted key "{ $key }": { $reason }
offline-not-hashed = { $path }: the file was not hashed
verify-header = Dossier { $reference } ({ $case }) — log { $origin }
verify-checkpoint = Checkpoint: size { $size }, root { $root }, key { $key }
verify-entries = Entries: { $entries }; openings checked: { $openings }
verify-extends-earlier = The log extends the earlier checkpoint (size { $size })
verify-custody-unbroken = custody unbroken
verify-custody-broken = CUSTODY BROKEN
verify-item = - Item { $item } (exhibit { $exhibit }, seal { $seal }), SHA-256 { $sha256 }: { $custody }; { $events ->
        [one] { $events } event
       *[other] { $events } events
    }; holder { $holder } ({ $status })
verify-integrity-mismatch =   ! an integrity check recorded a different hash
verify-file-matches =   file matches: { $file }
verify-verdict-ok = VERDICT: VERIFIED — everything holds
verify-verdict-failed = VERDICT: FAILED — { $findings ->
        [one] { $findings } finding
       *[other] { $findings } findings
    }
verify-not-verified = Dossier not verified.
verify-report-written = Report written: { $path } ({ $outcome })
verify-outcome-verified = verified
verify-outcome-failed = FAILED

## Court report

report-title = Verification report — { $reference }
report-heading = Verification report for a digital evidence dossier
report-subtitle = Scellé — verifiable chain-of-custody ledger
report-result = Result
report-verdict-ok = VERIFIED — every check holds.
report-verdict-failed = FAILED — the dossier cannot be relied upon as intact.
report-log-origin = Log (origin)
report-signed-checkpoint = Signed checkpoint
report-entries-count = { $size } entries
report-merkle-root = Merkle tree root
report-key-id = Signing key id
report-case-entries = Case entries verified
report-consistency = Consistency
report-consistency-detail = the log extends the earlier checkpoint of size { $size }
report-case = Case { $reference }
report-case-title = Title
report-not-disclosed = (not disclosed)
report-state = State
report-offence = Offence
report-legal-basis = Legal basis
report-agency-opened = Agency, opened
report-items-and-derivations = Items and derivations
report-exhibit-seal = Exhibit { $exhibit } — seal { $seal }
report-kind = Kind
report-description = Description
report-place-of-seizure = Place of seizure
report-derived-from = Derived from
report-verification = Verification
report-custody-unbroken = Chain of custody unbroken
report-custody-broken = Chain of custody broken
report-current-holder = current holder
report-integrity = Integrity
report-integrity-mismatch = a check recorded a hash different from the registered one
report-file-checked = File checked
report-file-matches = matches
report-entry-number = Entry no.
report-date = Date (zone)
report-event = Event
report-actor = Actor
report-recipient = Recipient
report-details = Details
report-howto-title = How anyone can check this again
report-howto-key = Obtain the node's public key through an independent channel (official publication) and compare its id with the one above.
report-howto-run = Run scelle verify dossier.json --trusted-key KEY --file FILE, or the independent tool tools/verify_dossier.py: no network, no database, no trust in the police server.
report-howto-proofs = Each entry is canonical JSON (RFC 8785); its SHA-256 hash and inclusion proof (RFC 9162) lead to the signed root: changing a single byte makes the proof fail.
report-howto-manifest = The signed manifest lists every entry of the case: removing one shows.
report-howto-files = An evidence file's SHA-256 can be recomputed with any tool (sha256sum) and compared with the registered one.
report-howto-format = The format is published (docs/FORMAT.md): an expert can write their own verifier.

## Custody events and states (labels)

event-registered = Registration (seizure)
event-sealed = Sealed
event-acquired = Acquired
event-copied = Copied
event-transferred = Transferred
event-received = Received
event-stored = Stored
event-examined = Examined
event-integrity_checked = Integrity checked
event-shared_externally = Shared externally
event-preservation_requested = Preservation requested
event-transfer_cancelled = Transfer cancelled by the sender
event-returned = Returned
event-destroyed = Destroyed
event-corrected = Correction
code-seal_intact = seal intact
code-seal_broken = SEAL BROKEN
code-match = hash matches
code-mismatch = HASH DIFFERS
code-in_custody = in custody
code-in_transit = in transit
code-returned = returned
code-destroyed = destroyed

## CASE/UCO export

case-uco-authorization-type = legal basis
case-uco-investigation-description = Scellé log { $origin } ({ $state } state), checkpoint of { $size } entries; verify the dossier with scelle verify (docs/FORMAT.md).
case-uco-seal = seal { $seal }
case-uco-seizure = seizure
case-uco-acquisition = acquisition
case-uco-to = to { $user }
case-uco-integrity = integrity: { $result }
case-uco-seal-intact = seal intact: { $intact }

## Refused fields

error-invalid-field = Invalid field `{ $field }`: { $reason }.
field-one-of = must be one of: { $values }
field-digest-length = wrong length for this digest
field-not-hex = must be hexadecimal
field-empty = must not be empty
field-too-long = too long
field-label-characters = only letters, digits and - _ . / : # ° are allowed
field-control-characters = must not contain control characters
field-not-rfc3339 = must be an RFC 3339 time with zone, e.g. 2026-03-01T14:05:00+00:00
field-unrepresentable = cannot be represented
field-required-for-event = is required for this event type
field-not-allowed-for-event = is not allowed for this event type
field-too-large = is too large
field-needs-state-prefix = must start with a state code: bj. bf. ci. ne. tg.
field-needs-a-purpose = name at least one purpose
field-password-too-short = must have at least 12 characters
field-cannot-disable-self = cannot be yourself: another administrator must do it
field-not-an-ip-address = is not an IP address (e.g. 10.0.0.5 or ::1)
field-must-be-future = must be in the future
field-at-least-one-day = must be at least 1
field-not-a-date = must be YYYY-MM-DD
field-conditions-with-h3 = is required with H3 and only with H3
field-agency-or-state = give exactly one of agency and state
field-label-digits = only the digits 0 to 9 are accepted
field-label-scripts = mixes scripts (Latin, Cyrillic…) that read alike
field-bidi-controls = must not contain bidirectional control characters (they change the order a text is shown in)
field-confusable = reads as "{ $other }", already used in this case
field-before-1970 = cannot be before 1970
field-in-the-future = is in the future
field-before-collection = comes before the item was collected
field-cannot-receive = cannot receive this item (the access rules do not let them record its custody)
field-repeated = names the same value twice

## Command line

cli-usage-heading = Usage
cli-commands-heading = Commands
cli-options-heading = Options
cli-help = Print help
cli-version = Print version
cli-error-unknown-argument = Unknown argument: { $arg }
cli-error-unknown-command = Unknown command: { $command }
cli-error-invalid-value = Value "{ $value }" refused for { $arg }; possible values: { $valid }
cli-error-invalid-value-reason = Value "{ $value }" refused for { $arg }
cli-error-missing-argument = Required argument missing: { $arg }
cli-error-missing-command = A subcommand is expected (see --help).
cli-error-conflict = { $arg } cannot be used with { $other }
cli-error-value-count = Wrong number of values for { $arg }
cli-error-no-equals = { $arg } expects its value after "="
cli-error-not-utf8 = An argument is not valid UTF-8.
cli-error-other = Invalid command line ({ $detail }).

cli-scelle-verify = Verify a dossier offline (no network, no database); exit 0 only if everything holds
cli-scelle-verify--dossier = Dossier file (JSON)
cli-scelle-verify--trusted_keys = Trusted verifier key (text or file), repeatable
cli-scelle-verify--files = Evidence file to check against the registered hashes, repeatable
cli-scelle-verify--json = JSON report on standard output
cli-scelle-verify--report = Also write the HTML court report to this file
cli-scelle-verify--lang = Language of the court report

## Reasons of the access rules that refuse (policy-<the rule's @id>)

policy-share-expired = the sharing of this case with your agency has expired
policy-share-use-limited-to-stated-purposes = this purpose is not allowed by the conditions of the sharing (Budapest, Art. 28)
policy-H0-crime-prevention-only = code H0: crime prevention only; no writes, no dossier, no other purpose
policy-H1-not-for-court-without-consent = code H1: not for court without the sending state's consent
policy-H2-no-onward-sharing = code H2 or confidentiality: this case may not be shared onward
policy-cross-border-needs-legal-basis = sharing outside the case's state must state its legal basis (legal_basis)
policy-cross-border-needs-conditions = sharing outside the case's state needs at least one handling code (H0 to H3)
policy-personal-data-needs-a-purpose = every read of personal data must state its purpose (purpose parameter)
policy-lab-sees-no-personal-data = the lab receives no personal data
policy-admin-and-auditor-read-no-case-content = administrators and auditors have no access to case content
policy-auditor-reads-no-case-content = administrators and auditors have no access to case content
policy-share-only-by-owner-agency = only the agency that owns the case may share it or withdraw its shares
policy-case-in-another-state-needs-legal-basis = a case belongs to your agency's state unless you state the legal basis that places it under another state's jurisdiction (jurisdiction_basis)

## API and command-line errors

not-found-case = Case not found.
not-found-evidence = Evidence item not found.
not-found-parent-evidence = Parent evidence item not found.
not-found-derived-evidence = The derived item is not in this case.
not-found-user = User not found.
not-found-agency = Agency not found.
not-found-entry = Log entry not found.
not-found-checkpoint = Checkpoint not found.
not-found-vault-record = Personal-data record not found.
not-found-token = Token not found.
not-found-person = Person not found.
not-found-share = Share not found.
conflict-case-reference = A case with this reference already exists.
conflict-seal-number = This seal number is already used in this case.
conflict-exhibit-number = This exhibit number is already used in this case.
conflict-agency = This agency already exists.
conflict-login = This login name is already another user's.
conflict-duplicate = This record already exists (another request created it at the same moment).
conflict-share-revoked = This share is already revoked.
denied-amends-other-item = a correction must amend an event of the same item
denied-integrity-result-wrong = an integrity check's result must be what its hash says against the registered SHA-256
error-forbidden = Action not allowed: { $reason }.
error-unauthenticated = Authentication required: the token is missing, invalid, expired or revoked.
error-token-expired = This token has expired: ask the administrator for a new one.
error-token-revoked = This token has been revoked.
error-user-disabled = This account has been disabled by an administrator.
error-cross-site = Request refused: it comes from another site or the form lacks its anti-CSRF token; reload the page.
error-not-durable = The ledger could not make the write durable (fsync): it may have been recorded. Appends are stopped until the node restarts; check the log before retrying.
error-method-not-allowed = Method not allowed for this address (allowed: { $allow }).
error-access-denied = Access denied ({ $action })
error-access-denied-no-policy = Access denied ({ $action }): no policy grants this action to your role on this resource.
error-bad-credentials = Wrong login or password.
error-too-many-attempts = Too many failed login attempts; try again in { $seconds } s.
error-policies-invalid = The access policies are invalid: { $detail }
error-bad-proof-request = Invalid proof request: { $detail }.
error-bad-earlier-checkpoint = The earlier checkpoint given is not valid for this log: { $detail }.
error-unavailable = The ledger is temporarily unavailable; try again.
error-internal = Internal server error; nothing was recorded. The incident is logged.
error-malformed-request = Malformed request: { $detail }
error-body-too-large = Request body too large (limit { $limit } bytes).
error-not-json = The body must be JSON (Content-Type: application/json).
error-no-such-route = No such endpoint.
error-request-timeout = The request came too slowly; the server stopped waiting for it.
health-sync-failed = The node could not make its log durable (fsync): appends are stopped until it restarts.
health-sequencer-stopped = The node's sequencer has stopped: no entry is appended any more; restart the node.
health-database-unreachable = The database does not answer.

## Records of processing (scelle dpo report)

dpo-title = Records of processing — { $state } ({ $authority }, { $law })
dpo-node = Node: { $origin }    Generated at: { $at }
dpo-purposes = Purposes: investigation, prosecution, prevention, forensic analysis, oversight.
dpo-data-held = Data held (encrypted records) and retention period:
dpo-days = { $days ->
        [one] { $days } day
       *[other] { $days } days
    }
dpo-reads = Reads of personal data by purpose:
dpo-none = (none)
dpo-access = Access decisions by role (allowed / denied):
dpo-transfers = Transfers (shared cases):
dpo-cross-border = cross-border
dpo-transfer-terms = codes: { $codes }  purposes: { $purposes }  expires: { $expires }
dpo-revoked = revoked: { $at }

## Pages

page-login-title = Sign in
page-login-login = Login
page-login-password = Password
page-login-submit = Sign in

## Watching a node (scelle checkpoint verify)

monitor-http = server unreachable or bad answer: { $detail }
monitor-state = local state unreadable ({ $path }): { $reason }
monitor-bad-signature = checkpoint not signed by the trusted key: { $detail }
monitor-rollback = ROLLBACK: the server shows { $new } entries after signing { $old }
monitor-split-view = SPLIT VIEW: two different signed roots for size { $size }
monitor-inconsistent = LOG REWRITTEN: the consistency proof from { $old } to { $new } fails
monitor-first = First checkpoint verified and saved (size { $size })
monitor-unchanged = Unchanged, same signed root (size { $size })
monitor-grew = The log only grew: { $from } → { $to } entries, consistency proof verified

## scelle's commands (help: cli-<path>, cli-<path>--<argument>)

cli-scelle = Scellé — verifiable ledger of the chain of custody of digital evidence
cli-scelle--data_dir = Data folder (SQLite database, node key)
cli-scelle--database_url = PostgreSQL URL instead of the folder's SQLite
cli-scelle-init = Initialize a node: database, key (0600), agency, first administrator
cli-scelle-init--origin = Log origin (checkpoint name)
cli-scelle-init--agency = Agency that runs the node
cli-scelle-init--agency_name = Agency name
cli-scelle-migrate = Apply database migrations
cli-scelle-migrate--revert_all = Revert every migration
cli-scelle-migrate--yes = Do not ask for confirmation (scripts)
cli-scelle-key = The node's keys
cli-scelle-key-show = Print the node's verifier key and write it to a file (node.pub)
cli-scelle-key-show--output = File to write the verifier key to
cli-scelle-serve = Run the HTTP server (initializes the folder if there is none)
cli-scelle-serve--listen = Listen address
cli-scelle-serve--tls_cert = TLS certificate chain (PEM) to serve HTTPS
cli-scelle-serve--tls_key = TLS private key (PEM)
cli-scelle-serve--policies = Folder of the Cedar policies and retention.json (default: the built-in ones)
cli-scelle-serve--retention_every_hours = How often the retention run happens, in hours (0: never)
cli-scelle-serve--trusted_proxies = Address of a trusted reverse proxy, whose X-Forwarded-For names the client (repeatable)
cli-scelle-serve--origin = Log origin (checkpoint name)
cli-scelle-serve--agency = Agency that runs the node
cli-scelle-serve--agency_name = Agency name
cli-scelle-policy = Cedar access policies
cli-scelle-policy-check = Validate the policies against the schema, and retention.json
cli-scelle-policy-check--dir = Policy folder (default: built-in)
cli-scelle-retention = Retention
cli-scelle-retention-run = Erase what has expired and report it
cli-scelle-retention-run--dry_run = Report without erasing
cli-scelle-retention-run--policies = Rules folder (default: built-in)
cli-scelle-retention-run--json = JSON report
cli-scelle-dpo = Data-protection officer
cli-scelle-dpo-report = Records of processing for one state, in French and English
cli-scelle-dpo-report--state = State: BJ, BF, CI, NE or TG
cli-scelle-dpo-report--json = JSON report
cli-scelle-user = User management
cli-scelle-user-add = Add a user, print its token last
cli-scelle-user-add--name = The person's name
cli-scelle-user-add--role = Role: investigator, prosecutor, lab_analyst, auditor, admin or dpo
cli-scelle-user-add--agency = Agency id, e.g. tg.police.dcpj
cli-scelle-user-add--token_days = Token validity in days
cli-scelle-user-password = Set the web login and password (read from standard input)
cli-scelle-user-password--user = User id
cli-scelle-user-password--login = Login name
cli-scelle-user-disable = Disable a user: revoke their tokens, end their sessions, refuse their password
cli-scelle-user-disable--user = User id
cli-scelle-user-enable = Enable a disabled user again (their password; tokens must be issued anew)
cli-scelle-user-enable--user = User id
cli-scelle-agency = Agency management
cli-scelle-agency-add = Add an agency
cli-scelle-agency-add--id = Id, e.g. bj.police.ocrc
cli-scelle-agency-add--name = Agency name
cli-scelle-agency-add--lab = A forensic lab (not a police service)
cli-scelle-token = Access tokens: issue and revoke
cli-scelle-token-issue = Issue a new token to a user (last line)
cli-scelle-token-issue--user = User id
cli-scelle-token-issue--days = Validity in days
cli-scelle-token-revoke = Revoke a token (the hex part after sct_)
cli-scelle-token-revoke--id = Token id
cli-scelle-token-revoke--user = Revoke every token of this user and end their sessions
cli-scelle-audit = Re-verify everything stored (entries, chain, nodes, checkpoints)
cli-scelle-rebuild = Rebuild the registry tables from the log
cli-scelle-hash = SHA-256 of files, in sha256sum format
cli-scelle-hash--files = Files to hash
cli-scelle-dossier = Evidence dossiers for court
cli-scelle-dossier-export = Export a case's dossier
cli-scelle-dossier-export--case = Case reference or id
cli-scelle-dossier-export--output = Output file (standard output otherwise)
cli-scelle-dossier-export--since_checkpoint = Checkpoint the recipient already holds
cli-scelle-dossier-export--without_personal_data = Without personal data
cli-scelle-dossier-export--format = Format: verifiable dossier (json) or CASE 1.4 / UCO JSON-LD (case-uco)
cli-scelle-dossier-report = HTML court report (printable on A4), after verification
cli-scelle-dossier-report--dossier = Dossier file (JSON)
cli-scelle-dossier-report--lang = Report language
cli-scelle-dossier-report--output = HTML file to write
cli-scelle-dossier-report--trusted_keys = Trusted verifier key (text or file), repeatable
cli-scelle-dossier-report--files = Evidence file to check, repeatable
cli-scelle-checkpoint = Watching a node's checkpoints
cli-scelle-checkpoint-verify = Check that the server's log only grew since the last verified checkpoint, then remember the new one
cli-scelle-checkpoint-verify--server = Node address, e.g. https://scelle.dcpj.tg
cli-scelle-checkpoint-verify--trusted_key = Trusted verifier key (text or file)
cli-scelle-checkpoint-verify--state = File keeping the last verified checkpoint
cli-scelle-checkpoint-verify--token = Access token for the log
cli-scelle-bench = Performance figures (build with --features bench)
cli-scelle-bench--entries = Log size for the proof and audit figures
cli-scelle-bench--seconds = Append measurement duration (s)
cli-scelle-bench--writers = Concurrent writers
cli-scelle-bench--writer_threads = Threads carrying the writer tasks (default: the cores but one)
cli-scelle-bench--hash_mib = Size of the hashed file (MiB)
cli-scelle-bench--dossier_items = Items in the benchmarked dossier's case
cli-scelle-bench--dossier_events = Custody events in that case
cli-scelle-bench--work_dir = Work folder (temporary by default)
cli-scelle-bench--phases = Phases to measure

## scelle's output

cli-out-verifier-key = Node verifier key:
cli-out-admin-token = Admin token (shown once; it expires in { $days } days, `scelle token issue` makes another):
cli-out-admin-token-file = Admin token written to { $path } (readable by this user only; it expires in { $days } days: read it, then delete the file)
cli-out-initializing = Initializing { $dir }
cli-out-listening = Scellé listening on { $url } ({ $database }, origin { $origin })
cli-out-migrations-applied = { $count ->
        [one] { $count } migration applied
       *[other] { $count } migrations applied
    }
cli-out-migrations-reverted = { $count ->
        [one] { $count } migration reverted
       *[other] { $count } migrations reverted
    }
cli-out-folder = folder { $dir }
cli-out-built-in = built-in
cli-out-policies-valid = Access policies valid: { $count } policies, schema { $schema }, retention.json ({ $source })
cli-policies-invalid = Invalid access policies; the node does not start: { $detail }
cli-out-retention-would-erase = { $count } to erase ({ $examined } examined)
cli-out-retention-erased = { $count } erased ({ $examined } examined)
cli-out-password-set = Password set for { $login }
cli-out-user-created = User created: { $id } ({ $role }, { $agency })
cli-out-token-issued = Token issued ({ $days ->
        [one] { $days } day
       *[other] { $days } days
    })
cli-out-token-revoked = Token revoked: { $id }
cli-out-user-disabled = User disabled: { $id } (no token, session or password lets them into the node)
cli-out-user-enabled = User enabled again: { $id } (their password works again; issue them a token with `scelle token issue`)
cli-out-ways-in-ended = { $id }: { $tokens ->
        [one] { $tokens } token revoked
       *[other] { $tokens } tokens revoked
    }, { $sessions ->
        [one] { $sessions } session ended
       *[other] { $sessions } sessions ended
    }
cli-out-agency-added = Agency added (seq { $seq })
cli-out-audit-passed = Audit passed: { $entries } entries, { $nodes } nodes, { $checkpoints } checkpoints, { $megabytes } MB in { $seconds } s
cli-audit-failed = AUDIT FAILED: { $findings ->
        [one] one finding
       *[other] { $findings } findings
    }, { $entries ->
        [0] no entry at fault
        [one] one entry at fault
       *[other] { $entries } entries at fault
    }
cli-rebuild-failed = Rebuild failed: { $detail }
cli-out-rebuilt = Registry rebuilt from { $entries } entries
cli-out-dossier-written = Dossier written: { $path } ({ $entries } entries)
audit-entry-missing = entry missing (next stored entry is seq { $next })
audit-entries-missing-to = entry missing (the signed log holds at least { $size } entries)
audit-leaf-hash-changed = stored leaf hash does not match the entry bytes
audit-chain-broken = entry bytes do not say this seq with `prev` linking to the previous entry
audit-unsigned-tail = entries stored beyond the newest signed checkpoint (size { $size }), up to seq { $last }
audit-row-outside = an entry row at seq { $seq }, outside the contiguous log of { $size }
audit-log-truncated = log truncated: a signed checkpoint covers { $signed } entries but only { $remain } remain
audit-node-count = { $stored } interior nodes stored within the first { $size } entries, which have { $expected }: nodes were inserted or left behind
audit-orphan-nodes = { $count } interior nodes stored beyond the log's last entry
audit-checkpoint-unreadable = checkpoint for size { $size } unreadable: { $detail }
audit-checkpoint-row-mismatch = checkpoint row for size { $size } does not match its signed note
audit-checkpoint-root-mismatch = signed checkpoint for size { $size } does not match the log's recomputed root
audit-node-changed = stored interior node (level { $level }, index { $index }) was changed
audit-node-missing = interior node (level { $level }, index { $index }) is missing or out of place
audit-entry-unreadable = the entry cannot be read: { $detail }
audit-entry-refused = the registry's rules refuse this entry: { $reason }
audit-registry-not-compared = the registry tables were not compared with the log: an entry is missing from here on
audit-row-differs = table { $table }, row { $key }: { $column } is { $stored }, the log says { $expected }
audit-row-missing = table { $table }: row { $key } is missing, the log says it exists
audit-row-unaccounted = table { $table }: row { $key } has no entry in the log that makes it
audit-erased-record-present = vault record { $record } is still stored although the log says it was erased
ledger-failed = the ledger failed: { $detail }
error-registry-disagrees = The registry disagrees with the log for { $table } { $key }: the node decides nothing on it. Run scelle audit.
audit-case-chain-broken = the custody record of case { $case } forks: this entry links to seq { $links }, the case's newest entry was seq { $newest }
verify-as-of = AS OF { $time }: the case's record up to this dossier's issue (seq { $seq }), in a log of { $size } entries. Events after this are not in this dossier.
verify-as-of-unknown = AS OF: unknown (a dossier issued before the case's entries were linked); its log held { $size } entries. Events after this are not in this dossier.
verify-complete = Completeness: proven — each entry of the case links to the one before it, up to this dossier's issue; none was left out.
verify-complete-from = Completeness: proven from seq { $seq } on; the case's entries before it were written before entries were linked (format 1), and their completeness rests on the node's word.
verify-complete-unproven = Completeness: not proven — nothing in this dossier shows that no entry of the case was left out.
finding-case-chain-broken = Entry { $seq } does not link to the dossier's entry of the case before it: an entry of the case was left out before it.
finding-dossier-not-issued = The dossier does not end with its own issue (dossier.issued): entries at its end may have been cut off.
finding-case-opened-twice = Entry { $seq } opens the case a second time.
finding-item-registered-twice = Entry { $seq } registers item { $item } a second time.
finding-integrity-result-wrong = Entry { $seq }: the integrity check of item { $item } records a result its hash does not give.
finding-known-checkpoint-invalid = The checkpoint you hold does not check out against this log: { $reason }
finding-older-than-known-checkpoint = This dossier is older than the checkpoint you hold ({ $dossier } entries against { $known }): events of the case after it may exist. Ask for a new dossier.
finding-known-checkpoint-not-proven = The dossier does not prove that its log extends the checkpoint you hold ({ $known } entries): ask for a dossier exported from that checkpoint.
cli-scelle-verify--known_checkpoint = A signed checkpoint you already hold (file): the dossier must extend it and be no older

## Start refused (operators' mistakes)
start-no-node-in-folder = No node in { $dir } (no node.key). To make a node here, run `scelle init --data-dir { $dir }` first; otherwise check the path (a typo would make a second node with another key).
start-no-database = The folder holds a node's key, but its database { $database } is missing or holds no log. The node does not start on an empty database: it would sign a second history under the same key. Restore the database (scelle restore) or check --database-url.
start-older-than-published = The database holds only { $size } entries, but this node has already published a checkpoint of { $published } entries: it is an older database (a backup, a copy). The node does not start; it would fork its log. Restore the newest database.
start-differs-from-published = At the size { $published } it published, this database's log has another root than the one this node signed: it is another history. The node does not start.
start-key-open-to-others = The secret file { $file } can be read or written by others (mode { $mode }). The node does not start: run `chmod 600 { $file }`.
start-url-without-scheme = The database URL must begin with sqlite:// or postgres:// (a bare path would make a SQLite database where none is expected).
start-folder-open = Warning: the folder { $dir } is open to other users (mode { $mode }); run `chmod 700 { $dir }`.
cli-revert-all-confirm = This drops the whole schema, evidence log included, of { $database }. Type "yes" to confirm (or pass --yes):
cli-revert-all-not-confirmed = Nothing was dropped: no confirmation.
cli-out-node-pub-written = Verifier key written to { $file }

## Backup and restore
backup-postgres = A PostgreSQL node is backed up with PostgreSQL's tools (pg_dump or pg_basebackup), with a copy of node.key, vault.key, vault-epochs.key and published.checkpoint: see the README.
backup-target-not-empty = The folder { $dir } is not empty: a backup goes into a new folder.
backup-not-a-backup = { $dir } is not a Scellé backup ({ $detail }).
backup-corrupt = The backup's file { $file } does not match its digest in backup.json: the backup is damaged or altered. Nothing was restored.
backup-target-holds-database = The folder already holds a database ({ $database }): move it away first; a restore replaces nothing.
backup-other-node = The folder holds the key of another node than the backup's. Nothing was restored.
backup-audit-failed = The backup's log does not pass the audit; nothing was restored: { $detail }
cli-out-backup-taken = Backup taken in { $dir }: { $entries } entries of the log { $origin }, keys and published checkpoint included (folder 0700, files 0600).
cli-out-restored = Restored: { $entries } entries, audit passed; the log extends the newest published checkpoint ({ $published } entries). The node can start.
cli-out-restored-unpublished = Restored: { $entries } entries, audit passed (the node had published nothing). The node can start.
cli-scelle-backup = Back the node up (a consistent SQLite database, keys, newest published checkpoint) into a new folder, even while it serves
cli-scelle-backup--to = The backup's (new) folder
cli-scelle-restore = Restore a backup into the node's folder, after an audit and a check that it forks nothing
cli-scelle-restore--from = The backup's folder

## Peer policy (C2SP tlog-policy) and witnesses (C2SP tlog-witness)

policy-line-invalid = Peer policy, line { $line }: { $reason }.
policy-line-character = forbidden character (tab is the only control character allowed)
policy-line-keyword = unknown keyword (expected log, witness, group or quorum)
policy-line-arguments = wrong number of arguments for this keyword
policy-line-key = invalid verifier key (type 0x01 for a log, 0x04 for a witness)
policy-line-duplicate-key = this key is already in the policy
policy-line-duplicate-name = this name is already defined (or is the reserved "none")
policy-line-undefined-name = this name is not defined on an earlier line
policy-line-repeated-member = a member is listed twice in the group
policy-line-threshold = invalid threshold (all, any, or k between 1 and the number of members)
policy-line-second-quorum = a second "quorum" line (only one is allowed)
policy-line-too-many = too many definitions (at most 256 of each kind)
policy-no-quorum = The peer policy has no "quorum" line.
policy-unknown-log = The checkpoint is signed by no log of the policy.
policy-checkpoint-invalid = Unreadable checkpoint: { $reason }.
policy-bad-cosignature = The cosignature of witness { $witness } is invalid (forged or damaged).
policy-quorum-not-met = Quorum not met: cosigned only by { $cosigned }.
witness-malformed = Malformed add-checkpoint request: { $reason }.
witness-old-above-new = The old size { $old } is above the checkpoint's size ({ $size }).
witness-unknown-origin = This witness does not know the log "{ $origin }".
witness-untrusted = The checkpoint carries no signature by a key trusted for this log.
witness-conflict = This witness last cosigned size { $size }: send a proof from that size.
witness-bad-proof = The consistency proof does not verify: this checkpoint does not extend the one the witness cosigned.
field-peer-log-key = not a C2SP log verifier key (name+id+base64, type 0x01)
field-peer-witness-key = not a C2SP witness verifier key (name+id+base64, type 0x04)
field-peer-url = an https:// address without spaces is expected
field-peer-name = letters, digits, "-", "_" and "." only, and not "entente", "none", "all" or "any"
field-peer-cert = not a readable PEM certificate
start-no-peers = This node has no peers.policy file: run "scelle peer init" first, then add its peers ("scelle peer add"), before opening the peer listener (--peer-listen).
not-found-cosigned-checkpoint = No checkpoint of this node has been cosigned by the quorum of its witnesses yet.
cli-out-peer-listening = Peers (mutual TLS) on { $url }
cli-scelle-serve--peer_listen = Listening address for peers (mutual TLS, pinned certificates of peers/)
cli-scelle-peer = The Entente network: this node's identity and its peers
cli-scelle-peer-init = Creates this node's witness key, certificate between nodes and peers.policy
cli-scelle-peer-init--url = The https:// address peers reach this node at (that of --peer-listen)
cli-scelle-peer-init--hosts = Another DNS name or IP address for the certificate (repeatable)
cli-scelle-peer-identity = Prints the command a peer runs to add this node
cli-scelle-peer-add = Adds a peer: its log, its witness and its pinned certificate
cli-scelle-peer-add--name = The peer's name in the policy (e.g. tg.police.dcpj)
cli-scelle-peer-add--log_key = The peer's log verifier key (type 0x01)
cli-scelle-peer-add--witness_key = The peer's witness verifier key (type 0x04)
cli-scelle-peer-add--url = The peer's https:// address between nodes
cli-scelle-peer-add--cert = The peer's PEM certificate, pinned
cli-scelle-peer-quorum = Sets the quorum: k witnesses of all, all, any or none
cli-scelle-peer-quorum--threshold = k, all, any or none
cli-scelle-peer-list = Lists the peers and what this node cosigned of their logs
cli-out-peer-initialized = Identity between nodes ready in { $dir } (witness.key, peer-tls.pem, peers.policy).
cli-out-peer-identity = To add this node, a peer runs:
cli-out-peer-fingerprint = Certificate SHA-256 fingerprint: { $fingerprint }
cli-out-peer-added = Peer "{ $name }" added; restart "scelle serve" for it to count.
cli-out-peer-quorum = Quorum set: { $threshold }; restart "scelle serve" for it to count.
cli-out-peer-none = No peers: this node has no peers.policy ("scelle peer init").
cli-out-peer-line = { $name } — { $url } — log { $log } — pinned certificate { $pinned } — cosigned up to { $witnessed } ({ $at })
cli-scelle-verify--policy = Peer policy (C2SP tlog-policy): the checkpoint must be signed by one of its logs and cosigned by the quorum of its witnesses
offline-bad-policy = { $path } is not a valid peer policy: { $reason }
verify-cosigned-by = Cosigned by the policy's quorum: { $witnesses }.
finding-checkpoint-not-cosigned = The checkpoint does not satisfy the peer policy: { $reason }. Another state of the log may have been shown to you alone.
cli-out-peer-alert = ⚠ The log { $log } contradicted itself ({ $seen }): the evidence is this node's entry { $seq } ({ $at }).
cli-scelle-peer-status = What this node publishes (cosigned by whom, when) and the contradictions of peers it caught
cli-out-peer-published = Published: size { $size }, cosigned at { $at } by { $witnesses }.
cli-out-peer-unpublished = Nothing cosigned yet: the quorum of witnesses has not answered (is "scelle serve" running?).
cli-out-peer-no-alert = No contradiction of a peer caught.
cli-scelle-key-rotate = Creates the node's next key: both sign until the old one is retired, and a statement signed by both announces the new one to the peers
cli-scelle-key-retire = Retires the old key (destroyed) once a checkpoint signed by the new one was published
cli-key-rotation-under-way = A key rotation is already under way ({ $file }): finish it with "scelle key retire".
cli-key-no-rotation = No key rotation under way: run "scelle key rotate" first.
cli-key-retire-too-early = The node has not yet published a checkpoint signed by the new key: restart "scelle serve" so both keys sign, wait until its peers have seen it, then retire the old one.
cli-out-key-rotated = Next key created: { $key }. Statement for the peers: { $statement } ("scelle peer rotate --statement …" at each). Restart "scelle serve": both keys now sign.
cli-out-key-retired = The old key is destroyed; the node signs with { $key } alone. Restart "scelle serve".
cli-scelle-peer-rotate = Adds a peer's new key, announced by its rotation statement signed by the old and the new key
cli-scelle-peer-rotate--statement = The statement (the peer's key-rotation.note file)
cli-out-peer-rotated = New key of the log { $log } added beside the old one; restart "scelle serve" for it to count.
field-rotation-statement = rotation statement refused: { $reason }
field-peer-is-self = this is this node's own witness key, not a peer's
field-peer-threshold = a number, "all", "any" or "none" is expected
witness-part-utf8 = the body is not UTF-8
witness-part-old = the first line is not "old <size>"
witness-part-empty-line = no empty line separates the proof from the checkpoint
witness-part-proof-count = more than 63 proof lines
witness-part-proof-line = a proof line is not a base64 hash
witness-part-note = the checkpoint is not a signed note
witness-part-body = the note's text is not a checkpoint
witness-part-size = a tree size this witness cannot store
transfer-unsupported-format = Unsupported transfer format (expected "scelle-transfer/1").
transfer-bad-id = The transfer's id is malformed.
transfer-not-addressed-here = This transfer is addressed to another node.
transfer-not-the-senders-log = The dossier is not of the log of the peer that sent it.
transfer-dossier-fails = The dossier does not verify: { $reason }
transfer-share-unproven = The share is not a "case.shared" entry of the sender's log proved to the dossier's checkpoint.
transfer-share-of-another-case = The share is of another case than the dossier's.
transfer-not-shared-with-us = The case was not shared with this state or one of its agencies.
transfer-share-expired = The share under which the case was sent has expired.
transfer-no-legal-basis = A transfer across a border needs a legal basis, and the share states none.
conflict-transfer = This transfer is already recorded.
not-found-transfer = No dossier received with this transfer id.
not-found-share-to-peer = This case has no live share (not revoked, not expired) with that peer's state or one of its agencies: share it first ("POST /api/v1/cases/{"{"}id{"}"}/shares").
not-found-peer = No peer of this name, with an address, a log and a pinned certificate, in peers.policy.
transfer-refused-before = This transfer was refused when it was first sent ({ $code }).
transfer-malformed = Not a transfer (scelle-transfer/1): { $reason }
transfer-unknown-sender = The calling peer has no log in this node's peers.policy.
cli-scelle-peer-outbox = The dossiers this node owes or sent its peers, newest first (JSON lines)
cli-scelle-peer-outbox--limit = How many transfers at most
cli-scelle-peer-inbox = The dossiers peers sent this node, imported or refused (JSON lines)
cli-out-peer-outbox = Dossiers waiting for delivery: { $queued }
transfer-conditions-do-not-travel = The case was shared under H3: its conditions are sealed in the sender's vault and do not travel between nodes yet, so this node could not follow them.
transfer-too-large = This dossier ({ $bytes } bytes) is larger than a transfer between nodes may be (256 MiB).
transfer-busy = Another transfer from this node is being received: send one at a time.
delivery-local-error = This node could not prepare or record the delivery: { $reason }
delivery-peer-unreachable = The peer could not be reached (the transfer waits and goes when the link returns): { $reason }
delivery-peer-answer = The peer answered HTTP { $status } (the transfer waits and is sent again): { $body }
delivery-bad-receipt = The peer's receipt does not check, so the delivery is not recorded (the transfer is sent again): { $reason }
verify-sent-to = Sent to { $peer } (entry { $seq }, transfer { $transfer }): recorded there as entry { $received }, checked under its key when it was delivered.
transfer-duplicate = This node already received this dossier from this peer under another transfer id; it is not recorded again.
transfer-id-taken = This transfer id names another peer's dossier on this node: send it under a new id.
transfer-too-slow = The transfer was not sent within 120 seconds; the connection is closed.
