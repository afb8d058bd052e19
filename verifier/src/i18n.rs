//! The message catalogue: every text a person reads — API errors, CLI output, verifier findings,
//! the court report, the pages — is a keyed message in French and English, in Fluent files
//! (`verifier/i18n/fr.ftl`, `verifier/i18n/en.ftl`, projectfluent.org).
//!
//! The catalogue sits in the verifier crate because every other part of Scellé depends on this
//! crate and it depends on nothing of theirs; the node renders its own messages through it too.
//! Code names a message with [`t!`](crate::t) (`t!("finding-leaf-hash-mismatch", seq = 12)`) and
//! renders it later in one language or both: a [`Message`] is a value, so an error can carry
//! one up the layers without choosing a language. Tests check that every key has both languages
//! with the same arguments, and that every key the code or a template names exists.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use serde::Serialize;
use std::borrow::Cow;
use std::sync::LazyLock;

/// The catalogue's French source.
pub const FRENCH: &str = include_str!("../i18n/fr.ftl");
/// The catalogue's English source.
pub const ENGLISH: &str = include_str!("../i18n/en.ftl");

/// A language a message can be rendered in. French comes first: the users are French-speaking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Français.
    #[default]
    Fr,
    /// English.
    En,
}

impl Lang {
    /// Both languages, French first.
    pub const ALL: [Lang; 2] = [Lang::Fr, Lang::En];

    /// The BCP 47 tag (`fr`, `en`), as in `<html lang>`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Fr => "fr",
            Lang::En => "en",
        }
    }

    /// The language of a tag, if it is one of ours (`fr`, `fr-BJ`, `en-GB`…).
    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.split(['-', '_']).next()?.trim().to_ascii_lowercase();
        match primary.as_str() {
            "fr" => Some(Lang::Fr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// One argument of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    /// Shown as it is (ids, paths, reasons, numbers that are names such as a seq).
    Text(String),
    /// A count, for Fluent's plural selection.
    Count(u64),
    /// Another message, rendered in the same language.
    Message(Box<Message>),
}

/// A message of the catalogue with its arguments, not yet in any language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    key: &'static str,
    args: Vec<(&'static str, Arg)>,
}

/// Builds a [`Message`]: `t!("key")`, `t!("key", name = value, …)` where each value is shown
/// with its `Display` form.
#[macro_export]
macro_rules! t {
    ($key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::i18n::Message::new($key)$(.arg(stringify!($name), $value))*
    };
}

impl Message {
    /// The message `key`, with no argument yet.
    pub fn new(key: &'static str) -> Self {
        Self {
            key,
            args: Vec::new(),
        }
    }

    /// Its key in the catalogue.
    pub fn key(&self) -> &'static str {
        self.key
    }

    /// Adds an argument shown as text.
    pub fn arg(mut self, name: &'static str, value: impl std::fmt::Display) -> Self {
        self.args.push((name, Arg::Text(value.to_string())));
        self
    }

    /// Adds a count, which the catalogue may use to choose a plural form.
    pub fn count(mut self, name: &'static str, n: u64) -> Self {
        self.args.push((name, Arg::Count(n)));
        self
    }

    /// Adds another message as an argument, rendered in the same language as this one.
    pub fn nested(mut self, name: &'static str, message: Message) -> Self {
        self.args.push((name, Arg::Message(Box::new(message))));
        self
    }

    /// The message in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        CATALOGUE.render(lang, self)
    }

    /// The message in French.
    pub fn fr(&self) -> String {
        self.render(Lang::Fr)
    }

    /// The message in English.
    pub fn en(&self) -> String {
        self.render(Lang::En)
    }

    /// Both languages, for answers that carry both (API errors, JSON reports).
    pub fn both(&self) -> Bilingual {
        Bilingual {
            fr: self.fr(),
            en: self.en(),
        }
    }

    /// French, then English, on two lines: what the CLI prints (once when they are the same).
    pub fn two_lines(&self) -> String {
        let (fr, en) = (self.fr(), self.en());
        if fr == en { fr } else { format!("{fr}\n{en}") }
    }

    /// French / English on one line (once when they are the same).
    pub fn one_line(&self) -> String {
        let (fr, en) = (self.fr(), self.en());
        if fr == en { fr } else { format!("{fr} / {en}") }
    }
}

/// A message in both languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bilingual {
    /// The French text.
    pub fr: String,
    /// The English text.
    pub en: String,
}

/// Renders one message in one language (a shorthand for templates).
pub fn text(lang: Lang, key: &'static str) -> String {
    Message::new(key).render(lang)
}

/// The text of a key chosen at run time (command paths), or `None` when the catalogue has no
/// such key. Code that names a key itself uses [`t!`](crate::t) instead.
pub fn text_by_key(lang: Lang, key: &str) -> Option<String> {
    let bundle = CATALOGUE.bundle(lang);
    let pattern = bundle.get_message(key)?.value()?;
    let mut errors = Vec::new();
    Some(
        bundle
            .format_pattern(pattern, None, &mut errors)
            .into_owned(),
    )
}

struct Catalogue {
    french: FluentBundle<FluentResource>,
    english: FluentBundle<FluentResource>,
}

static CATALOGUE: LazyLock<Catalogue> = LazyLock::new(|| Catalogue {
    french: bundle(unic_langid::langid!("fr"), FRENCH),
    english: bundle(unic_langid::langid!("en"), ENGLISH),
});

/// A bundle of one language. A syntax error leaves the faulty messages out (they then render as
/// their key); the catalogue tests refuse any such error, so none reaches a build.
fn bundle(lang: unic_langid::LanguageIdentifier, source: &str) -> FluentBundle<FluentResource> {
    let resource = match FluentResource::try_new(source.to_owned()) {
        Ok(resource) => resource,
        Err((partial, _errors)) => partial,
    };
    let mut bundle = FluentBundle::new_concurrent(vec![lang]);
    // No Unicode isolation marks around arguments: the texts go to terminals, JSON and HTML
    // that escape what they show, and the marks would be invisible bytes in every one of them.
    bundle.set_use_isolating(false);
    // A key defined twice is refused by the tests; at run time its first definition wins.
    let _overridden = bundle.add_resource(resource);
    bundle
}

impl Catalogue {
    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        match lang {
            Lang::Fr => &self.french,
            Lang::En => &self.english,
        }
    }

    fn render(&self, lang: Lang, message: &Message) -> String {
        let bundle = self.bundle(lang);
        let Some(pattern) = bundle.get_message(message.key).and_then(|m| m.value()) else {
            return message.key.to_owned();
        };
        let mut args = FluentArgs::new();
        for (name, value) in &message.args {
            let value: FluentValue<'_> = match value {
                Arg::Text(text) => FluentValue::String(Cow::Owned(text.clone())),
                Arg::Count(n) => FluentValue::from(*n),
                Arg::Message(inner) => FluentValue::String(Cow::Owned(self.render(lang, inner))),
            };
            args.set(*name, value);
        }
        let mut errors = Vec::new();
        bundle
            .format_pattern(pattern, Some(&args), &mut errors)
            .into_owned()
    }
}

/// Every key named in the Rust sources (`t!("…")`) and templates (`t("…")`) under `dir`, for the
/// tests that check each exists in the catalogue (this crate's and the node's). Unreadable files
/// are skipped.
pub fn keys_named_in(dir: &std::path::Path, out: &mut std::collections::BTreeSet<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            keys_named_in(&path, out);
            continue;
        }
        let is_source = path.extension().is_some_and(|e| e == "rs" || e == "html");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if !is_source {
            continue;
        }
        for marker in ["t!(\"", "t(\""] {
            for (i, _) in text.match_indices(marker) {
                // `t!(` and `t(` on their own, not the end of `format!(` or `set(`.
                let before = text[..i].chars().next_back();
                if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    continue;
                }
                let rest = &text[i + marker.len()..];
                let key = rest.split('"').next().unwrap_or_default();
                // A key is kebab-case with at least one dash; doc examples (`t!("key")`)
                // are not keys.
                let is_key = key.contains('-')
                    && key
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c));
                if is_key {
                    out.insert(key.to_owned());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fluent_syntax::ast;
    use std::collections::{BTreeMap, BTreeSet};

    /// Every message id of a source with the variables its value uses.
    fn messages(source: &str) -> BTreeMap<String, BTreeSet<String>> {
        let resource = match fluent_syntax::parser::parse(source) {
            Ok(r) => r,
            Err((_, errors)) => panic!("the catalogue does not parse: {errors:?}"),
        };
        let mut out = BTreeMap::new();
        for entry in resource.body {
            if let ast::Entry::Message(m) = entry {
                let mut vars = BTreeSet::new();
                if let Some(value) = &m.value {
                    variables(value, &mut vars);
                }
                assert!(
                    out.insert(m.id.name.to_owned(), vars).is_none(),
                    "key {} is defined twice",
                    m.id.name
                );
            }
        }
        out
    }

    fn variables(pattern: &ast::Pattern<&str>, out: &mut BTreeSet<String>) {
        for element in &pattern.elements {
            if let ast::PatternElement::Placeable { expression } = element {
                expression_variables(expression, out);
            }
        }
    }

    fn expression_variables(expression: &ast::Expression<&str>, out: &mut BTreeSet<String>) {
        match expression {
            ast::Expression::Select { selector, variants } => {
                inline_variables(selector, out);
                for v in variants {
                    variables(&v.value, out);
                }
            }
            ast::Expression::Inline(inline) => inline_variables(inline, out),
        }
    }

    fn inline_variables(inline: &ast::InlineExpression<&str>, out: &mut BTreeSet<String>) {
        match inline {
            ast::InlineExpression::VariableReference { id } => {
                out.insert(id.name.to_owned());
            }
            ast::InlineExpression::Placeable { expression } => {
                expression_variables(expression, out)
            }
            _ => {}
        }
    }

    #[test]
    fn every_key_has_both_languages_with_the_same_arguments() {
        let fr = messages(FRENCH);
        let en = messages(ENGLISH);
        let only_fr: Vec<_> = fr.keys().filter(|k| !en.contains_key(*k)).collect();
        let only_en: Vec<_> = en.keys().filter(|k| !fr.contains_key(*k)).collect();
        assert!(only_fr.is_empty(), "keys with no English: {only_fr:?}");
        assert!(only_en.is_empty(), "keys with no French: {only_en:?}");
        for (key, vars) in &fr {
            assert_eq!(Some(vars), en.get(key), "arguments of {key} differ");
        }
        assert!(fr.len() > 100, "the catalogue has {} keys", fr.len());
    }

    #[test]
    fn messages_render_with_their_arguments_and_unknown_keys_render_as_themselves() {
        let m = t!("finding-leaf-hash-mismatch", seq = 12);
        assert!(
            m.fr().contains("12") && m.fr().starts_with("Entrée"),
            "{}",
            m.fr()
        );
        assert!(
            m.en().contains("12") && m.en().starts_with("Entry"),
            "{}",
            m.en()
        );
        assert!(!m.fr().contains('\u{2068}'), "no isolation marks");
        assert_eq!(Message::new("no-such-key").fr(), "no-such-key");
    }

    #[test]
    fn every_key_the_verifier_names_is_in_the_catalogue() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut named = BTreeSet::new();
        super::keys_named_in(&root.join("src"), &mut named);
        super::keys_named_in(&root.join("templates"), &mut named);
        let fr = messages(FRENCH);
        // The scan must find the keys (a broken scan would pass vacuously).
        assert!(named.len() > 80, "{} keys named", named.len());
        let missing: Vec<_> = named
            .iter()
            .filter(|k| !fr.contains_key(*k))
            .filter(|k| *k != "no-such-key")
            .collect();
        assert!(
            missing.is_empty(),
            "keys named in code but not in the catalogue: {missing:?}"
        );
    }

    #[test]
    fn tags_name_the_two_languages() {
        assert_eq!(Lang::from_tag("fr-BJ"), Some(Lang::Fr));
        assert_eq!(Lang::from_tag("en_GB"), Some(Lang::En));
        assert_eq!(Lang::from_tag("de"), None);
        assert_eq!(Lang::Fr.tag(), "fr");
    }
}
