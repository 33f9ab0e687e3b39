//! The parser: turns an expression string into a syntax tree shaped exactly
//! like the grammar of `openedx-calc` 4.0.3, because evaluation depends on
//! that shape (a sum always starts from the integer 0, a product from the
//! integer 1, as Open edX does).
//!
//! The grammar, written from the observed behaviour of Open edX's evaluator
//! (an ordered-choice grammar: the first alternative that matches wins, and
//! there is no backtracking into an alternative once it matched):
//!
//! ```text
//! sum      = [sign] product { sign product }
//! product  = parallel { ("*" | "/") parallel }
//! parallel = power { "||" power }
//! power    = atom { "^" atom }               right-associative
//! atom     = number | function | variable | "(" sum ")"
//! number   = [sign] digits ["." [digits]] | [sign] "." digits,
//!            then optionally ("e"|"E") [sign] digits, then optionally "%"
//! function = name "(" sum ")"
//! variable = tensor-name | name
//! name     = letter { letter | digit | "_" } { "'" }
//! ```
//!
//! Blanks (space, tab, CR, LF) may stand between any two tokens, including
//! between the parts of a number (`2 e - 3` is 0.002), but not inside a
//! name or inside the digits of a number. A number carries its own sign,
//! which is why `2*-3` parses while `2*-x` does not.

use super::CalcError;

/// Deepest nesting of parentheses and function calls (see the limits module).
pub(crate) const MAX_DEPTH: usize = crate::limits::MAX_EXPRESSION_DEPTH;

/// A sign token in a sum, or the sign written before a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sign {
    Plus,
    Minus,
}

/// `*` or `/` in a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MulOp {
    Mul,
    Div,
}

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    /// A numeric literal: its text with blanks removed, exponent marker
    /// written as `E`, and a trailing `%` kept (as Open edX joins its parts).
    Number(String),
    /// A variable or constant name, as written.
    Variable(String),
    /// A function call: name as written, and its argument.
    Function(String, Box<Node>),
    /// `[sign] term { sign term }`; a missing leading sign is `Plus`.
    Sum(Vec<(Sign, Node)>),
    /// `term { op term }`.
    Product(Box<Node>, Vec<(MulOp, Node)>),
    /// `term { || term }` (at least one term).
    Parallel(Vec<Node>),
    /// `atom { ^ atom }` (at least one atom).
    Power(Vec<Node>),
}

/// Parses a whole expression. The caller handles the blank expression.
pub(crate) fn parse(src: &str) -> Result<Node, CalcError> {
    check_parens(src)?;
    let mut p = Parser {
        s: src.as_bytes(),
        pos: 0,
        depth: 0,
        too_deep: false,
    };
    let tree = p.sum();
    if p.too_deep {
        return Err(too_deep());
    }
    let Some(tree) = tree else {
        return Err(p.error_here());
    };
    p.skip_ws();
    if p.pos < p.s.len() {
        return Err(p.error_here());
    }
    Ok(tree)
}

fn too_deep() -> CalcError {
    CalcError::Syntax {
        position: 0,
        message: format!("expression nested more than {MAX_DEPTH} levels deep"),
    }
}

/// Checks parentheses balance first, as Open edX does, so that an unclosed
/// parenthesis gets a clear message rather than a generic syntax error.
/// Nesting deeper than [`MAX_DEPTH`] is refused here, before the parser
/// recurses (every nesting level of the grammar opens a parenthesis).
fn check_parens(src: &str) -> Result<(), CalcError> {
    let mut depth: i64 = 0;
    for (position, ch) in src.chars().enumerate() {
        match ch {
            '(' => {
                depth += 1;
                if depth > MAX_DEPTH as i64 {
                    return Err(too_deep());
                }
            }
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(CalcError::Syntax {
                        position,
                        message: "a closing parenthesis has no matching opening parenthesis"
                            .to_string(),
                    });
                }
            }
            _ => {}
        }
    }
    if depth > 0 {
        return Err(CalcError::Syntax {
            position: src.chars().count(),
            message: format!("{depth} parenthesis(es) opened but never closed"),
        });
    }
    Ok(())
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
    depth: usize,
    too_deep: bool,
}

fn is_blank(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

impl Parser<'_> {
    fn error_here(&self) -> CalcError {
        // Report where the text stops making sense, as a character index.
        let mut at = self.pos;
        while at < self.s.len() && is_blank(self.s[at]) {
            at += 1;
        }
        let prefix = String::from_utf8_lossy(&self.s[..at.min(self.s.len())]);
        let position = prefix.chars().count();
        let message = match self.s.get(at) {
            None => "the expression ends too early".to_string(),
            Some(_) => {
                let rest = String::from_utf8_lossy(&self.s[at..]);
                let shown: String = rest.chars().take(10).collect();
                format!("unexpected text at \"{shown}\"")
            }
        };
        CalcError::Syntax { position, message }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(is_blank) {
            self.pos += 1;
        }
    }

    /// Skips blanks, then consumes `lit` if it comes next.
    fn literal(&mut self, lit: &str) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.s[self.pos..].starts_with(lit.as_bytes()) {
            self.pos += lit.len();
            true
        } else {
            self.pos = save;
            false
        }
    }

    fn sign(&mut self) -> Option<Sign> {
        if self.literal("+") {
            Some(Sign::Plus)
        } else if self.literal("-") {
            Some(Sign::Minus)
        } else {
            None
        }
    }

    fn sum(&mut self) -> Option<Node> {
        let lead = self.sign();
        let first = self.product()?;
        let mut terms = vec![(lead.unwrap_or(Sign::Plus), first)];
        loop {
            let save = self.pos;
            let Some(sign) = self.sign() else { break };
            match self.product() {
                Some(term) => terms.push((sign, term)),
                None => {
                    self.pos = save;
                    break;
                }
            }
        }
        Some(Node::Sum(terms))
    }

    fn product(&mut self) -> Option<Node> {
        let first = self.parallel()?;
        let mut rest = Vec::new();
        loop {
            let save = self.pos;
            let op = if self.literal("*") {
                MulOp::Mul
            } else if self.literal("/") {
                MulOp::Div
            } else {
                break;
            };
            match self.parallel() {
                Some(term) => rest.push((op, term)),
                None => {
                    self.pos = save;
                    break;
                }
            }
        }
        Some(Node::Product(Box::new(first), rest))
    }

    fn parallel(&mut self) -> Option<Node> {
        let mut terms = vec![self.power()?];
        loop {
            let save = self.pos;
            if !self.literal("||") {
                break;
            }
            match self.power() {
                Some(term) => terms.push(term),
                None => {
                    self.pos = save;
                    break;
                }
            }
        }
        Some(Node::Parallel(terms))
    }

    fn power(&mut self) -> Option<Node> {
        let mut atoms = vec![self.atom()?];
        loop {
            let save = self.pos;
            if !self.literal("^") {
                break;
            }
            match self.atom() {
                Some(atom) => atoms.push(atom),
                None => {
                    self.pos = save;
                    break;
                }
            }
        }
        Some(Node::Power(atoms))
    }

    fn atom(&mut self) -> Option<Node> {
        if let Some(n) = self.number() {
            return Some(n);
        }
        if let Some(f) = self.function() {
            return Some(f);
        }
        if let Some(v) = self.variable() {
            return Some(v);
        }
        let save = self.pos;
        if self.literal("(") {
            if let Some(inner) = self.nested(Self::sum) {
                if self.literal(")") {
                    return Some(inner);
                }
            }
        }
        self.pos = save;
        None
    }

    /// Runs a sub-parser one nesting level deeper, refusing past MAX_DEPTH.
    fn nested(&mut self, f: fn(&mut Self) -> Option<Node>) -> Option<Node> {
        if self.depth >= MAX_DEPTH {
            self.too_deep = true;
            return None;
        }
        self.depth += 1;
        let out = f(self);
        self.depth -= 1;
        out
    }

    fn digits(&mut self) -> Option<&str> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start {
            None
        } else {
            std::str::from_utf8(&self.s[start..self.pos]).ok()
        }
    }

    fn number(&mut self) -> Option<Node> {
        let save = self.pos;
        let mut text = String::new();
        match self.sign() {
            Some(Sign::Minus) => text.push('-'),
            Some(Sign::Plus) => text.push('+'),
            None => {}
        }
        self.skip_ws();
        // The digits, point and fraction are one token: no blanks inside.
        if let Some(d) = self.digits() {
            text.push_str(d);
            if self.peek() == Some(b'.') {
                self.pos += 1;
                text.push('.');
                if let Some(f) = self.digits() {
                    text.push_str(f);
                }
            }
        } else if self.peek() == Some(b'.') {
            self.pos += 1;
            match self.digits() {
                Some(f) => {
                    text.push('.');
                    text.push_str(f);
                }
                None => {
                    self.pos = save;
                    return None;
                }
            }
        } else {
            self.pos = save;
            return None;
        }
        // Optional exponent: E [sign] digits, blanks allowed between parts.
        let before_exp = self.pos;
        if self.literal("e") || self.literal("E") {
            let mut exp = String::from("E");
            match self.sign() {
                Some(Sign::Minus) => exp.push('-'),
                Some(Sign::Plus) => exp.push('+'),
                None => {}
            }
            self.skip_ws();
            match self.digits() {
                Some(d) => {
                    exp.push_str(d);
                    text.push_str(&exp);
                }
                None => self.pos = before_exp,
            }
        }
        if self.literal("%") {
            text.push('%');
        }
        Some(Node::Number(text))
    }

    /// `letter { letter | digit | _ } { ' }`, no blanks inside.
    fn plain_name(&mut self) -> Option<String> {
        let start = self.pos;
        if !self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.pos += 1;
        }
        while self.peek() == Some(b'\'') {
            self.pos += 1;
        }
        Some(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    /// `_{alnum+}` or `^{alnum+}` right at the current position.
    fn index(&mut self, open: &[u8]) -> bool {
        let save = self.pos;
        if !self.s[self.pos..].starts_with(open) {
            return false;
        }
        self.pos += open.len();
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
            self.pos += 1;
        }
        if self.pos > start && self.peek() == Some(b'}') {
            self.pos += 1;
            true
        } else {
            self.pos = save;
            false
        }
    }

    /// A tensor-style name: `letters_{idx}`, `letters^{idx}` or
    /// `letters_{idx}^{idx}`, then primes. The base has no underscore.
    fn tensor_name(&mut self) -> Option<String> {
        let start = self.pos;
        if !self.peek().is_some_and(|b| b.is_ascii_alphabetic()) {
            return None;
        }
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric()) {
            self.pos += 1;
        }
        let lower = self.index(b"_{");
        let upper = self.index(b"^{");
        if !lower && !upper {
            self.pos = start;
            return None;
        }
        while self.peek() == Some(b'\'') {
            self.pos += 1;
        }
        Some(String::from_utf8_lossy(&self.s[start..self.pos]).into_owned())
    }

    fn function(&mut self) -> Option<Node> {
        let save = self.pos;
        self.skip_ws();
        if let Some(name) = self.plain_name() {
            if self.literal("(") {
                if let Some(arg) = self.nested(Self::sum) {
                    if self.literal(")") {
                        return Some(Node::Function(name, Box::new(arg)));
                    }
                }
            }
        }
        self.pos = save;
        None
    }

    fn variable(&mut self) -> Option<Node> {
        let save = self.pos;
        self.skip_ws();
        if let Some(name) = self.tensor_name() {
            return Some(Node::Variable(name));
        }
        if let Some(name) = self.plain_name() {
            return Some(Node::Variable(name));
        }
        self.pos = save;
        None
    }
}

/// Names of the variables and of the functions used in a tree, as written.
pub(crate) fn names_used(node: &Node, vars: &mut Vec<String>, funcs: &mut Vec<String>) {
    match node {
        Node::Number(_) => {}
        Node::Variable(v) => vars.push(v.clone()),
        Node::Function(f, arg) => {
            funcs.push(f.clone());
            names_used(arg, vars, funcs);
        }
        Node::Sum(terms) => terms.iter().for_each(|(_, t)| names_used(t, vars, funcs)),
        Node::Product(first, rest) => {
            names_used(first, vars, funcs);
            rest.iter().for_each(|(_, t)| names_used(t, vars, funcs));
        }
        Node::Parallel(terms) | Node::Power(terms) => {
            terms.iter().for_each(|t| names_used(t, vars, funcs))
        }
    }
}
