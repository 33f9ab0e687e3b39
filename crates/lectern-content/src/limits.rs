//! Every bound on the work course content or a learner can make Lectern do,
//! in one place.
//!
//! A problem's XML decides how much work each check costs (a formula
//! response evaluates the learner's answer once per sample, a regexp is
//! compiled and run, hints are sanitized), and one learner can send checks
//! as fast as the network allows. So every attribute that multiplies work
//! has a ceiling here, generous for any real course (Open edX's own
//! problems stay far below them) and small enough that the worst problem a
//! ceiling allows grades in milliseconds. Course XML that asks for more is
//! refused when it is imported or saved in Studio (see
//! [`crate::problem::Problem::parse`], which enforces them), so it never
//! reaches a learner. The evaluator's ceilings bound one learner answer.

// ---- Problem XML (checked by `problem::limits` when a problem is parsed) ----

/// Largest problem XML, in bytes (Studio's editor refuses more as well).
pub const MAX_PROBLEM_XML_BYTES: usize = 1 << 20;

/// Deepest element nesting in a problem (walking the tree recurses).
pub const MAX_PROBLEM_XML_DEPTH: usize = 64;

/// Most elements in one problem.
pub const MAX_PROBLEM_ELEMENTS: usize = 20_000;

/// Longest attribute value in a problem, in characters (any attribute;
/// the attributes below have tighter ceilings).
pub const MAX_ATTRIBUTE_CHARS: usize = 20_000;

/// Most response elements (`…response`) in one problem.
pub const MAX_RESPONSES: usize = 100;

/// Most input elements (`textline`, `choicegroup`, …) in one problem.
pub const MAX_INPUTS: usize = 100;

/// Most choices (`<choice>`, `<option>`, or the entries of an
/// `options="…"` list) in one response.
pub const MAX_CHOICES: usize = 200;

/// Most hint elements in one problem (choice, option, compound, correct,
/// string and regexp hints, and demand hints).
pub const MAX_HINTS: usize = 200;

/// Most markup in all of a problem's hints together, in bytes: hints are
/// sanitized again at every check that shows one.
pub const MAX_HINT_TEXT_BYTES: usize = 100_000;

/// Most `<additional_answer>` elements in one response.
pub const MAX_ADDITIONAL_ANSWERS: usize = 100;

/// Longest answer expression (`answer` of a numerical or formula response,
/// an additional numerical answer), in characters: it is evaluated at every
/// check, at every formula sample.
pub const MAX_ANSWER_EXPRESSION_CHARS: usize = 1_000;

/// Longest regular expression, in characters: a regexp text response's
/// answers joined, or one regexp hint's pattern. The compiled program is
/// bounded too ([`MAX_REGEX_COMPILED_BYTES`]).
pub const MAX_REGEX_PATTERN_CHARS: usize = 2_000;

/// Memory one compiled regular expression may take (the `regex` crate's
/// size limit; its lazy DFA cache gets the same).
pub const MAX_REGEX_COMPILED_BYTES: usize = 1 << 20;

/// Longest tolerance (`<responseparam type="tolerance" default="…">`).
pub const MAX_TOLERANCE_CHARS: usize = 64;

/// Most formula samples in one problem, all formula responses together:
/// each sample evaluates the learner's formula and the staff's once. Open
/// edX problems usually ask for 10 to 30.
pub const MAX_FORMULA_SAMPLES: usize = 1_000;

/// Most variables a formula response's `samples` may name.
pub const MAX_FORMULA_VARIABLES: usize = 30;

// ---- The grading policy (`grading_policy.json`; refused at import and in Studio) ----

/// Most assignment types (`GRADER` entries) in a grading policy; every
/// course grade walks each one.
pub const MAX_ASSIGNMENT_TYPES: usize = 100;

/// Largest `min_count` of an assignment type: the grade pads the type with
/// that many empty entries at every computation (every check).
pub const MAX_ASSIGNMENT_MIN_COUNT: u32 = 1_000;

// ---- Learner answers (checked before grading) ----

/// Longest single answer accepted (characters); longer ones are refused.
pub const MAX_ANSWER_CHARS: usize = 10_000;

/// Most values accepted in one checkbox answer.
pub const MAX_ANSWER_VALUES: usize = 1_000;

// ---- The expression evaluator (`calc`) ----

/// Longest expression the evaluator reads, in characters. A learner's
/// numerical or formula answer longer than this is invalid input (no
/// attempt used). Real answers are a few dozen characters.
pub const MAX_EXPRESSION_CHARS: usize = 2_000;

/// Deepest nesting of parentheses and function calls accepted. Open edX's
/// parser runs out of Python stack at about 40 levels (it reports an
/// error); this bound keeps Lectern's recursion safe and close to that
/// behaviour. It is checked before the parser recurses.
pub const MAX_EXPRESSION_DEPTH: usize = 36;

/// Largest exact integer kept, in bits (about 315,000 decimal digits).
/// Python has no bound; past this Lectern reports an overflow instead of
/// spending seconds and megabytes on a number no answer can use.
pub const MAX_INT_BITS: u64 = 1 << 20;

/// Largest argument `fact` computes (its result has about 118,000 bits).
pub const MAX_FACT: u64 = 10_000;

/// Work one evaluation may do, in rough machine-word operations (each
/// step of the walk counts one; exact-integer arithmetic counts its
/// size). A formula response shares one such budget between all its
/// samples, so `fact(9999)` repeated in an answer cannot be multiplied by
/// the sample count. About 3 factorials of 9999; any real answer uses a few
/// thousand at most.
pub const MAX_EVALUATION_WORK: u64 = 30_000_000;

/// Work one check of a problem may do in the evaluator, all expressions
/// together (staff answers, tolerances, partial-credit answers, and the
/// learner's numerical answers; a formula answer's samples have their own
/// [`MAX_EVALUATION_WORK`] on top).
pub const MAX_GRADING_WORK: u64 = 60_000_000;
