//! A word of the vocabulary: its canonical name, the aliases a person may
//! type, and a one-line definition. Labels, callbacks, data patches,
//! optimisers and the words of choice-valued config targets are all terms.

use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Term {
    pub name: &'static str,
    pub aliases: &'static [&'static str],
    pub definition: &'static str,
    /// For a diagnosis label: where the fault it names lives. The catalogue
    /// groups its categories by it.
    pub group: Option<FaultGroup>,
}

/// Where a fault lives: what a player changes to cure it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultGroup {
    /// The rows, their labels, or how the loader serves them.
    Data,
    /// The model, its initialisation and the hyper-parameters of training.
    Optimisation,
    /// A line of `train.py`.
    Program,
}

impl FaultGroup {
    pub fn name(self) -> &'static str {
        match self {
            FaultGroup::Data => "data",
            FaultGroup::Optimisation => "optimisation",
            FaultGroup::Program => "program",
        }
    }
}

impl Term {
    pub const fn new(name: &'static str, definition: &'static str) -> Term {
        Term {
            name,
            aliases: &[],
            definition,
            group: None,
        }
    }

    /// A diagnosis label for a fault that lives in `group`.
    pub const fn label(name: &'static str, group: FaultGroup, definition: &'static str) -> Term {
        Term {
            name,
            aliases: &[],
            definition,
            group: Some(group),
        }
    }

    pub const fn aka(mut self, aliases: &'static [&'static str]) -> Term {
        self.aliases = aliases;
        self
    }

    /// Whether `word` names this term: its name or an alias, ignoring
    /// surrounding space and ASCII case.
    pub fn matches(&self, word: &str) -> bool {
        let word = word.trim();
        self.name.eq_ignore_ascii_case(word)
            || self.aliases.iter().any(|a| a.eq_ignore_ascii_case(word))
    }
}

/// The term `word` names in `terms`, if any.
pub fn find(terms: &'static [Term], word: &str) -> Option<&'static Term> {
    terms.iter().find(|t| t.matches(word))
}

/// The canonical names of `terms`, in table order.
pub fn names(terms: &'static [Term]) -> impl Iterator<Item = &'static str> {
    terms.iter().map(|t| t.name)
}

/// The typed value a word stands for. Engine enums derive their serde names
/// from their variants (snake_case), which the table's names equal — a test
/// per enum holds them together — so no name is spelled twice.
pub fn typed<T: DeserializeOwned>(terms: &'static [Term], word: &str) -> Option<T> {
    let term = find(terms, word)?;
    serde_json::from_value(serde_json::Value::String(term.name.to_string())).ok()
}

/// The table's name for a typed value (the inverse of [`typed`]); empty only
/// if the enum has a variant the table lacks, which the tests rule out.
pub fn name_of<T: Serialize>(terms: &'static [Term], value: &T) -> &'static str {
    let Ok(serde_json::Value::String(word)) = serde_json::to_value(value) else {
        return "";
    };
    terms.iter().find(|t| t.name == word).map_or("", |t| t.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WORDS: &[Term] = &[Term::new("kaiming", "he init").aka(&["he"])];

    #[test]
    fn matches_name_and_alias_ignoring_case_and_space() {
        assert!(WORDS[0].matches(" Kaiming "));
        assert!(WORDS[0].matches("HE"));
        assert!(!WORDS[0].matches("kaiming_normal"));
        assert_eq!(find(WORDS, "he").map(|t| t.name), Some("kaiming"));
    }
}
