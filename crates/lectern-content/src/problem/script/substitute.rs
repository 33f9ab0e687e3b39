//! `$name` substitution, as Open edX's `contextualize_text` does it: for
//! each variable, longest names first, every `$name` in the text is
//! replaced by the value's Python `str()`; no word boundary is looked for,
//! and a value's own `$shorter` names are expanded by the later passes.
//!
//! Open edX applies it to the rendered page, to answers, `expect`,
//! tolerances, ranges, choice names and flags, hints and solutions; Lectern
//! applies it once to every text and attribute of the problem (never to
//! script or `<answer>` code) and then reads the result as an ordinary
//! problem. Values are text: a variable holding markup is shown as text.

use super::super::xml::{Element, Node};
use super::ScriptContext;

/// The variables in the order substitution tries them: longest name first,
/// ties in the order the script made them (Python's stable sort).
pub(crate) fn ordered(ctx: &ScriptContext) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = ctx
        .strings
        .iter()
        .map(|(k, v)| (format!("${k}"), v.clone()))
        .collect();
    pairs.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    pairs
}

/// One text, substituted. `budget` is how many bytes the problem may
/// still grow by; `None` when a substitution would exceed it.
pub(crate) fn contextualize(
    text: &str,
    vars: &[(String, String)],
    budget: &mut usize,
) -> Option<String> {
    if !text.contains('$') {
        return Some(text.to_string());
    }
    let mut out = text.to_string();
    for (key, value) in vars {
        if !out.contains(key.as_str()) {
            continue;
        }
        let count = out.matches(key.as_str()).count();
        let grows = value.len().saturating_sub(key.len()).saturating_mul(count);
        *budget = budget.checked_sub(grows)?;
        out = out.replace(key.as_str(), value);
    }
    Some(out)
}

/// Substitutes every text and attribute of `root` in place, except inside
/// `<script>` and `<answer>` (code, which Open edX never substitutes).
/// `false` when the problem would grow past `budget` bytes.
pub(crate) fn contextualize_tree(
    root: &mut Element,
    vars: &[(String, String)],
    budget: &mut usize,
) -> bool {
    if root.tag == "script" || root.tag == "answer" {
        return true;
    }
    for (_, v) in root.attrs.iter_mut() {
        match contextualize(v, vars, budget) {
            Some(s) => *v = s,
            None => return false,
        }
    }
    for child in root.children.iter_mut() {
        let ok = match child {
            Node::Text(t) => match contextualize(t, vars, budget) {
                Some(s) => {
                    *t = s;
                    true
                }
                None => false,
            },
            Node::Element(e) => contextualize_tree(e, vars, budget),
        };
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        ordered(&ScriptContext {
            globals: Default::default(),
            strings: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        })
    }

    #[test]
    fn longest_names_first_and_no_word_boundary() {
        let vars = ctx(&[("x", "1"), ("xx", "22"), ("y", "$x")]);
        let mut budget = 1000;
        assert_eq!(
            contextualize("$xx $x $xy ${x} $y", &vars, &mut budget).as_deref(),
            // `$xy` is `$x` then `y`; `${x}` is no form Open edX knows;
            // `$y`'s value `$x` stays: `$x` and `$y` are as long, so they
            // run in script order and the `$x` pass came first.
            Some("22 1 1y ${x} $x")
        );
    }

    #[test]
    fn growth_is_bounded() {
        let vars = ctx(&[("x", &"a".repeat(100))]);
        let mut budget = 150;
        assert!(contextualize("$x", &vars, &mut budget).is_some());
        assert!(contextualize("$x", &vars, &mut budget).is_none());
    }
}
