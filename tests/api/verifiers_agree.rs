//! The two verifiers agree (issue #28 item 9): `scelle verify` (the verifier crate) and the
//! independent `tools/verify_dossier.py`, given the same mutant of a real dossier, reach the same
//! exit status (0 holds, 3 findings, 2 unreadable) and, when they find something, the same
//! finding codes. The mutants cover structure, numbers, strings, keys, base64, signatures and
//! the entry bytes; a mutant both accept must be the genuine dossier in another spelling.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};
use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::dossier::build_story;
use crate::helpers::{Backend, TestApp};

const PY_VERIFIER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/verify_dossier.py");

/// A small deterministic generator (xorshift64*), so a failing mutant is found again.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Paths (as JSON pointers) of every object, array and scalar in `v`.
fn pointers(v: &Value, here: String, out: &mut Vec<(String, Value)>) {
    out.push((here.clone(), v.clone()));
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                pointers(
                    child,
                    format!("{here}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                pointers(child, format!("{here}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn parent_and_key(pointer: &str) -> (&str, String) {
    let (parent, key) = pointer.rsplit_once('/').unwrap_or(("", pointer));
    (parent, key.replace("~1", "/").replace("~0", "~"))
}

/// Mutates one string so that it differs (a changed, added or removed character).
fn mutate_string(rng: &mut Rng, s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    match rng.below(9) {
        0 if !chars.is_empty() => {
            let i = rng.below(chars.len());
            let mut c = chars.clone();
            c[i] = if c[i] == 'A' { 'B' } else { 'A' };
            c.into_iter().collect()
        }
        1 => s.to_uppercase() + if s.to_uppercase() == s { "x" } else { "" },
        2 => format!("{s}\n"),
        3 => format!("{s}\u{202e}"),
        4 if !chars.is_empty() => chars[..chars.len() - 1].iter().collect(),
        5 => format!(" {s}"),
        6 => format!("{s}="),
        7 => s.replace('+', "-").replace('/', "_") + if s.contains(['+', '/']) { "" } else { "-" },
        _ => format!("{s}\u{0}"),
    }
}

/// One mutant of the dossier `d` (its JSON text), and what was done.
fn mutant(rng: &mut Rng, d: &Value, compact: &str) -> (String, Vec<u8>) {
    let mut v = d.clone();
    let mut all = Vec::new();
    pointers(d, String::new(), &mut all);
    let (pointer, _) = rng.pick(&all).clone();
    let text = |v: &Value| serde_json::to_vec(v).unwrap();
    match rng.below(16) {
        // Structure: a member removed or added, a value of another type.
        0 if !pointer.is_empty() => {
            let (parent, key) = parent_and_key(&pointer);
            match v.pointer_mut(parent) {
                Some(Value::Object(m)) => {
                    m.remove(&key);
                }
                Some(Value::Array(a)) => {
                    a.remove(key.parse::<usize>().unwrap());
                }
                _ => {}
            }
            (format!("remove {pointer}"), text(&v))
        }
        1 => {
            let objects: Vec<&(String, Value)> =
                all.iter().filter(|(_, v)| v.is_object()).collect();
            let (p, _) = *rng.pick(&objects);
            let name = rng.pick(&["extra", "v", "Format", "seq"]).to_string();
            if let Some(Value::Object(m)) = v.pointer_mut(p) {
                m.entry(name.clone()).or_insert(json!(1));
            }
            (format!("add {p}/{name}"), text(&v))
        }
        2 if !pointer.is_empty() => {
            let other = rng
                .pick(&[
                    json!(null),
                    json!(true),
                    json!(0),
                    json!(-1),
                    json!(""),
                    json!("x"),
                    json!([]),
                    json!({}),
                    json!(u64::MAX),
                ])
                .clone();
            *v.pointer_mut(&pointer).unwrap() = other.clone();
            (format!("set {pointer} = {other}"), text(&v))
        }
        // Numbers.
        3 => {
            let entries = v["entries"].as_array_mut().unwrap();
            let i = rng.below(entries.len());
            let seq = entries[i]["seq"].as_u64().unwrap();
            let new = *rng.pick(&[seq + 1, seq.saturating_sub(1), u64::MAX, 0, seq + 1_000_000]);
            entries[i]["seq"] = json!(new);
            (format!("entries/{i}/seq = {new}"), text(&v))
        }
        4 => {
            let seq = d["entries"][0]["seq"].as_u64().unwrap();
            let from = format!("\"seq\":{seq}");
            let to = rng
                .pick(&[
                    format!("\"seq\":{seq}.0"),
                    format!("\"seq\":{seq}e0"),
                    format!("\"seq\":{}", seq as f64 * 1.5),
                    "\"seq\":NaN".into(),
                    "\"seq\":Infinity".into(),
                    "\"seq\":-0".into(),
                    "\"seq\":18446744073709551616".into(),
                    "\"seq\":-1".into(),
                    format!("\"seq\":0{seq}"),
                    format!("\"seq\":+{seq}"),
                    format!("\"seq\":\"{seq}\""),
                ])
                .clone();
            (
                format!("{from} -> {to}"),
                compact.replacen(&from, &to, 1).into_bytes(),
            )
        }
        // Strings.
        5 | 6 => {
            let strings: Vec<&(String, Value)> =
                all.iter().filter(|(_, v)| v.is_string()).collect();
            let (p, s) = *rng.pick(&strings);
            let new = mutate_string(rng, s.as_str().unwrap());
            *v.pointer_mut(p).unwrap() = json!(new);
            (format!("string {p} = {new:?}"), text(&v))
        }
        7 => {
            // The same text in another legal spelling (escapes), or an illegal one.
            let (what, out) = rng
                .pick(&[
                    ("escape /", compact.replacen("/", "\\/", 3)),
                    (
                        "escape a letter",
                        compact.replacen("scelle", "sc\\u0065lle", 2),
                    ),
                    (
                        "lone surrogate",
                        compact.replacen("scelle", "scelle\\ud800", 1),
                    ),
                    ("BOM", format!("\u{feff}{compact}")),
                    ("trailing garbage", format!("{compact}x")),
                    ("trailing space", format!("{compact} \n")),
                    ("leading space", format!(" \t{compact}")),
                    ("two documents", format!("{compact}{compact}")),
                    ("invalid UTF-8", String::new()),
                ])
                .clone();
            if what == "invalid UTF-8" {
                let mut b = compact.as_bytes().to_vec();
                let i = b.iter().position(|c| *c == b'T').unwrap_or(10);
                b[i] = 0xff;
                return (what.into(), b);
            }
            (what.into(), out.into_bytes())
        }
        // Keys: duplicated, with the same or another value, at the top or inside.
        8 => {
            let (what, out) = rng
                .pick(&[
                    (
                        "duplicate origin",
                        compact.replacen("{", "{\"origin\":\"x/y\",", 1),
                    ),
                    (
                        "duplicate origin, same",
                        compact.replacen("{", &format!("{{\"origin\":{},", d["origin"]), 1),
                    ),
                    (
                        "duplicate seq",
                        compact.replacen("\"seq\":", "\"seq\":0,\"seq\":", 1),
                    ),
                    (
                        "duplicate case",
                        compact.replacen("\"case\":{", "\"case\":{\"id\":\"0\",", 1),
                    ),
                    (
                        "duplicate format",
                        compact.replacen(
                            "\"format\":",
                            "\"format\":\"scelle-dossier/1\",\"format\":",
                            1,
                        ),
                    ),
                ])
                .clone();
            (what.into(), out.into_bytes())
        }
        // Nesting.
        9 => {
            let depth = *rng.pick(&[10usize, 63, 64, 65, 100, 129, 3000]);
            let nested = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
            let out = compact.replacen("{", &format!("{{\"deep\":{nested},"), 1);
            (format!("nesting {depth}"), out.into_bytes())
        }
        // Base64 of entries, leaf hashes, proofs.
        10 | 11 => {
            let entries = v["entries"].as_array_mut().unwrap();
            let i = rng.below(entries.len());
            let field = *rng.pick(&["entry", "leaf_hash", "inclusion_proof"]);
            let slot = if field == "inclusion_proof" {
                match entries[i]["inclusion_proof"].as_array_mut() {
                    Some(p) if !p.is_empty() => {
                        let j = rng.below(p.len());
                        &mut p[j]
                    }
                    _ => &mut entries[i]["leaf_hash"],
                }
            } else {
                &mut entries[i][field]
            };
            let s = slot.as_str().unwrap().to_owned();
            let new = match rng.below(7) {
                0 => s.trim_end_matches('=').to_owned(),
                1 => format!("{s}=="),
                2 => format!("{} {}", &s[..4], &s[4..]),
                3 => s.replace('+', "-").replace('/', "_"),
                4 => format!("{}!{}", &s[..4], &s[5..]),
                5 => {
                    let mut b = B64.decode(&s).unwrap();
                    let k = rng.below(b.len());
                    b[k] ^= 1;
                    B64.encode(b)
                }
                _ => format!(
                    "{}{}",
                    &s[..s.len() - 2],
                    if s.ends_with("==") { "A=" } else { "==" }
                ),
            };
            *slot = json!(new);
            (format!("base64 entries/{i}/{field}"), text(&v))
        }
        // Signed notes: checkpoint and manifest.
        12 | 13 => {
            let field = *rng.pick(&["checkpoint", "manifest"]);
            let note = v[field].as_str().unwrap().to_owned();
            let (body, sigs) = note.split_at(note.rfind("\n\n").unwrap() + 2);
            let new = match rng.below(8) {
                0 => {
                    let mut lines: Vec<String> = body.lines().map(str::to_owned).collect();
                    let k = 1 + rng.below(lines.len().saturating_sub(1).max(1));
                    if k < lines.len() {
                        lines[k] = mutate_string(rng, &lines[k]);
                    }
                    format!("{}\n\n{sigs}", lines.join("\n"))
                }
                1 => {
                    let (name, sig) = sigs.trim_end().rsplit_once(' ').unwrap();
                    let mut b = B64.decode(sig).unwrap();
                    let k = 4 + rng.below(b.len() - 4);
                    b[k] ^= 0x80;
                    format!("{body}{name} {}\n", B64.encode(b))
                }
                2 => body.to_string(),
                3 => format!("{body}{sigs}{sigs}"),
                4 => format!("{body}{}", sigs.replacen("\u{2014} ", "\u{2014} x", 1)),
                5 => format!("{body}{}", sigs.replacen("\u{2014} ", "- ", 1)),
                6 => note.replacen("\n\n", "\n", 1),
                _ => note.replace(' ', " +").replacen(" +", " ", 0),
            };
            v[field] = json!(new);
            (format!("note {field}"), text(&v))
        }
        // The entry bytes themselves: re-encoded after a change to the entry's JSON.
        _ => {
            let entries = v["entries"].as_array_mut().unwrap();
            let i = rng.below(entries.len());
            let bytes = B64.decode(entries[i]["entry"].as_str().unwrap()).unwrap();
            let mut e: Map<String, Value> = serde_json::from_slice(&bytes).unwrap();
            let kind = e["kind"].as_str().unwrap().to_owned();
            let member = kind.split('.').next().unwrap().to_owned();
            let (what, raw) = match rng.below(10) {
                0 => ("v = 3", {
                    e.insert("v".into(), json!(3));
                    None
                }),
                1 => ("v = \"2\"", {
                    e.insert("v".into(), json!("2"));
                    None
                }),
                2 => ("unknown kind", {
                    e.insert("kind".into(), json!(format!("{kind}x")));
                    None
                }),
                3 => ("unknown role", {
                    e["actor"]["role"] = json!("king");
                    None
                }),
                4 => ("extra member", {
                    e.insert("extra".into(), json!(1));
                    None
                }),
                5 => ("prev upper case", {
                    let p = e["prev"].as_str().unwrap().to_uppercase();
                    e.insert("prev".into(), json!(p));
                    None
                }),
                6 => ("member removed", {
                    e.remove("time");
                    None
                }),
                7 => (
                    "not canonical",
                    Some(serde_json::to_vec_pretty(&e).unwrap()),
                ),
                8 => ("inner extra member", {
                    if let Some(Value::Object(body)) = e.get_mut(&member) {
                        body.insert("zzz".into(), json!("x"));
                    }
                    None
                }),
                _ => (
                    "float in entry",
                    Some(
                        String::from_utf8(
                            scelle_verifier::jcs::canonicalize(&Value::Object(e.clone())).unwrap(),
                        )
                        .unwrap()
                        .replacen("\"seq\":", "\"seq\":1.0,\"x\":", 1)
                        .into_bytes(),
                    ),
                ),
            };
            let raw = raw
                .unwrap_or_else(|| scelle_verifier::jcs::canonicalize(&Value::Object(e)).unwrap());
            entries[i]["entry"] = json!(B64.encode(raw));
            (format!("entry {i} ({kind}): {what}"), text(&v))
        }
    }
}

/// (exit status, finding codes) of the verifier crate, in process, as `scelle verify --json`.
fn rust_verdict(path: &Path, key: &str) -> (i32, BTreeSet<String>) {
    match scelle_verifier::offline::verify_files(path, &[key.to_owned()], &[], None, None) {
        Err(_) => (2, BTreeSet::new()),
        Ok(report) => {
            let json =
                serde_json::to_value(scelle_verifier::offline::json_report(&report)).unwrap();
            let codes = json["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f["code"].as_str().unwrap().to_owned())
                .collect();
            (if report.ok { 0 } else { 3 }, codes)
        }
    }
}

/// The Python verifier over many files in one process (its `check_path`, as its command line
/// runs it): one JSON line per file.
fn python_verdicts(paths: &[PathBuf], key: &Path) -> Vec<(i32, BTreeSet<String>)> {
    let driver = format!(
        "import importlib.util, json, sys\n\
         spec = importlib.util.spec_from_file_location('v', {PY_VERIFIER:?})\n\
         v = importlib.util.module_from_spec(spec); spec.loader.exec_module(v)\n\
         keys = [v.parse_key(open({key:?}).read())]\n\
         for path in sys.stdin.read().split('\\n'):\n\
         \x20   if not path: continue\n\
         \x20   code, findings, _ = v.check_path(path, keys, [], None)\n\
         \x20   print(json.dumps([code, sorted({{f['code'] for f in findings}})]), flush=True)\n"
    );
    let mut child = Command::new("python3")
        .arg("-c")
        .arg(driver)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let list: String = paths.iter().map(|p| format!("{}\n", p.display())).collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python driver: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let (code, codes): (i32, Vec<String>) = serde_json::from_str(line).unwrap();
            (code, codes.into_iter().collect())
        })
        .collect()
}

#[test]
fn both_verifiers_reach_the_same_verdict_on_600_mutants_of_a_real_dossier() {
    let app = TestApp::spawn(Backend::Sqlite);
    let dir = tempfile::tempdir().unwrap();
    let story = build_story(&app, dir.path());
    let (s, dossier) = app.get(
        &app.prosecutor,
        &format!(
            "/api/v1/cases/{}/dossier?purpose=prosecution",
            story.case_id
        ),
    );
    assert_eq!(s, 200, "{dossier}");
    let key_path = dir.path().join("node.pub");
    std::fs::write(&key_path, format!("{}\n", app.verifier_key)).unwrap();
    let compact = serde_json::to_string(&dossier).unwrap();

    let mut rng = Rng(0x5eed_5ce1_1e00_0028);
    let mut cases = vec![("genuine".to_owned(), compact.clone().into_bytes())];
    while cases.len() < 600 {
        let (what, bytes) = mutant(&mut rng, &dossier, &compact);
        cases.push((what, bytes));
    }
    let paths: Vec<PathBuf> = cases
        .iter()
        .enumerate()
        .map(|(i, (_, bytes))| {
            let path = dir.path().join(format!("mutant-{i:03}.json"));
            std::fs::write(&path, bytes).unwrap();
            path
        })
        .collect();
    let python = python_verdicts(&paths, &key_path);
    assert_eq!(python.len(), paths.len());
    let mut disagreements = Vec::new();
    let mut tally = std::collections::BTreeMap::<i32, usize>::new();
    for (((what, bytes), path), py) in cases.iter().zip(&paths).zip(&python) {
        let rust = rust_verdict(path, &app.verifier_key);
        *tally.entry(rust.0).or_default() += 1;
        if rust != *py {
            disagreements.push(format!("{what}: rust {rust:?} python {py:?}"));
        }
        // What is accepted reads as the genuine dossier, but for openings left out (a
        // recipient may be shown less, never something else).
        if rust.0 == 0 || py.0 == 0 {
            let mut read: Value = serde_json::from_slice(bytes).unwrap_or(Value::Null);
            let openings = read.get_mut("openings").map(Value::take);
            let shown_are_genuine =
                openings
                    .as_ref()
                    .and_then(Value::as_array)
                    .is_none_or(|shown| {
                        shown
                            .iter()
                            .all(|o| dossier["openings"].as_array().unwrap().contains(o))
                    });
            // The notes are compared by what is signed (a note may carry more signatures), and
            // `verifier_key` is informative (docs/FORMAT.md §4).
            let mut genuine = dossier.clone();
            for v in [&mut read, &mut genuine] {
                if let Value::Object(m) = v {
                    m.insert("openings".into(), dossier["openings"].clone());
                    m.remove("verifier_key");
                    for note in ["checkpoint", "manifest"] {
                        if let Some(Value::String(text)) = m.get_mut(note)
                            && let Some(end) = text.rfind("\n\n")
                        {
                            text.truncate(end);
                        }
                    }
                }
            }
            if read != genuine || !shown_are_genuine {
                disagreements.push(format!("{what}: accepted, yet not the genuine dossier"));
            }
        }
    }
    assert_eq!(
        python[0],
        (0, BTreeSet::new()),
        "the genuine dossier verifies"
    );
    assert!(
        disagreements.is_empty(),
        "{} of {} mutants disagree:\n{}",
        disagreements.len(),
        cases.len(),
        disagreements.join("\n")
    );
    eprintln!(
        "{} mutants, verdicts (exit status: count) {tally:?}",
        cases.len()
    );
    // The mutants reach every verdict: a test of agreement on one verdict only would be weak.
    assert!(
        tally.len() == 3 && tally.values().all(|n| *n >= 30),
        "{tally:?}"
    );
}

/// Both verifiers read a peer policy (C2SP tlog-policy, `--policy`) the same way: the same
/// texts accepted and refused, carriage returns and Unicode blanks included.
#[test]
fn both_verifiers_accept_and_refuse_the_same_peer_policies() {
    use scelle_verifier::cosignature::Cosigner;
    use scelle_verifier::note::NoteSigner;
    let log = NoteSigner::generate("bj.police.ocrc/scelle")
        .unwrap()
        .verifier_key_string();
    let w1 = Cosigner::generate("bf.police.dpj/scelle/witness")
        .unwrap()
        .verifier_key_string();
    let w2 = Cosigner::generate("tg.police.dcpj/scelle/witness")
        .unwrap()
        .verifier_key_string();
    let good = format!(
        "# peers\nlog {log} https://bj\nwitness bf {w1} https://bf/witness\n\twitness tg {w2}\ngroup e 2 bf tg\nquorum e\n"
    );
    let texts = vec![
        good.clone(),
        good.replace("group e 2", "group e 02"),
        good.replace("group e 2", "group e all"),
        good.replace("group e 2", "group e any"),
        good.replace("quorum e", "quorum none"),
        good.replace("quorum e", "quorum tg"),
        good.replace('\n', "\r\n"),
        good.replace("quorum e", "quorum\u{a0}e"),
        good.replace("witness tg", "witness\u{2003}tg"),
        good.replace("group e 2", "group e 0"),
        good.replace("group e 2", "group e 3"),
        good.replace("group e 2 bf tg", "group e 1 bf bf"),
        good.replace("group e 2 bf tg", "group e 1 none"),
        good.replace("quorum e", "quorum e\nquorum e"),
        good.replace("quorum e\n", ""),
        good.replace("witness tg", "witness bf"),
        good.replace(&w2, &w1),
        good.replace(&w1, &log),
        format!("{good}log {log}\n"),
        good.replace("log ", "logs "),
        good.replace("https://bj", "https://bj extra"),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, text) in texts.iter().enumerate() {
        let path = dir.path().join(format!("{i}.policy"));
        std::fs::write(&path, text).unwrap();
        let rust = scelle_verifier::policy::Policy::parse(text).is_ok();
        let out = Command::new("python3")
            .args([
                "-c",
                "import sys; sys.path.insert(0, 'tools'); import verify_dossier as v\n\
                 try:\n    v.parse_policy(open(sys.argv[1], 'rb').read().decode('utf-8')); print('ok')\n\
                 except ValueError as e:\n    print('refused', e)",
            ])
            .arg(&path)
            .output()
            .unwrap();
        let python = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            rust,
            python.starts_with("ok"),
            "policy {i} {text:?}: Rust {rust}, Python {python}"
        );
    }
}
