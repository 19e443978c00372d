//! Checks every request before anything else looks at it, on every path (HTTP, WebSocket,
//! in-process), in `prepare_request`:
//!
//! 1. **Nesting of the raw text.** async-graphql's parser (pest) recurses once per `[`, `{` or
//!    `(`: a 4 KB document of nested lists overflows a worker thread's stack and aborts the
//!    process. The text is scanned (strings and comments skipped) and refused beyond
//!    [`MAX_NESTING`] before it is parsed; variables are bounded the same way.
//! 2. **Size once fragments are expanded.** Ten thousand aliases of a field that costs nothing,
//!    a "fragment bomb" (each fragment spreading the previous one twice) that is short on the
//!    wire and exponential in the server, or a fragment that spreads itself. Counted on the
//!    parsed document with memoized fragments, so it is linear in the document's size.
//! 3. **Depth.** Counted here rather than by async-graphql, so that the schema's introspection
//!    (`__schema`, `__type`) has a depth limit of its own: the standard introspection query of
//!    every tool is 13 levels deep, and tightening `GRAPHQL_MAX_DEPTH` must not break it.
//! 4. **Text.** No string in the document or in the variables may hold NUL, another C0 control
//!    character than tab, line feed and carriage return, or a Unicode non-character: they break
//!    XML feeds and calendars, PostgreSQL refuses NUL, and no person types them.
//!
//! It also hands each request a [`PasswordChecks`] budget: one password check (`login` or
//! `changePassword`) per request, so aliases cannot multiply the hashing work.
//!
//! This runs before async-graphql's own recursion-depth check, which walks every expanded path
//! and so takes exponential time on a fragment bomb under the depth limit (25 levels took 37 s
//! here) or on a self-spreading fragment.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use std::time::Duration;

use async_graphql::Value as ConstValue;
use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest,
};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, FragmentDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::{Name, Positioned, Request, Response, ServerError, ServerResult};
use async_graphql_value::Value;

use super::error_codes::coded_error;
use crate::error::{AppError, ErrorCode};
use crate::values::check_text;

/// Field selections a document may expand to (GraphiQL's introspection query has about 100).
pub const MAX_SELECTIONS: u64 = 2_000;
/// Brackets, braces and parentheses open at once in a document's text, and list or object
/// levels in its variables. Real documents stay under 20; the parser's stack lasts to ~1,200.
pub const MAX_NESTING: usize = 64;
/// Depth of introspection (`__schema`, `__type`), counted apart from `GRAPHQL_MAX_DEPTH`; the
/// standard introspection query of graphql-js is 13 deep.
pub const MAX_INTROSPECTION_DEPTH: usize = 20;

/// The extension factory; `max_depth` is `GRAPHQL_MAX_DEPTH`, `query_timeout`
/// `GRAPHQL_QUERY_TIMEOUT_SECONDS`.
pub struct DocumentLimits {
    pub max_depth: usize,
    pub query_timeout: Duration,
}

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentLimitsExtension {
            max_depth: self.max_depth,
            query_timeout: self.query_timeout,
        })
    }
}

struct DocumentLimitsExtension {
    max_depth: usize,
    query_timeout: Duration,
}

/// Marks a request whose operation is a query: it runs under the query deadline. Mutations
/// run to their end, so a change is never cut between its writes and its commit.
struct IsQuery;

#[async_trait::async_trait]
impl Extension for DocumentLimitsExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let nesting = text_nesting(&request.query);
        if nesting > MAX_NESTING {
            return Err(refused(format!(
                "The query nests {nesting} levels of brackets; at most {MAX_NESTING} are allowed."
            )));
        }
        for (name, value) in request.variables.iter() {
            check_const_value(value, name.as_str(), 1).map_err(server_error)?;
        }
        let operation_name = request.operation_name.clone();
        // Parsed once here; async-graphql reuses the parsed document.
        let document = request.parsed_query()?;
        match expanded_selections(document) {
            Ok(selections) if selections <= MAX_SELECTIONS => {}
            Ok(selections) => {
                return Err(refused(format!(
                    "The query selects too much ({selections} selections once fragments are \
                     expanded; at most {MAX_SELECTIONS})."
                )));
            }
            Err(Cycle(name)) => {
                return Err(refused(format!("Fragment `{name}` spreads itself.")));
            }
        }
        let depth = depths(document);
        if depth.regular > self.max_depth {
            return Err(refused(format!(
                "Query is nested too deep ({} levels; at most {}).",
                depth.regular, self.max_depth
            )));
        }
        if depth.introspection > MAX_INTROSPECTION_DEPTH {
            return Err(refused(format!(
                "Introspection is nested too deep ({} levels; at most {MAX_INTROSPECTION_DEPTH}).",
                depth.introspection
            )));
        }
        check_document_text(document).map_err(server_error)?;
        let is_query = match (&document.operations, operation_name.as_deref()) {
            (DocumentOperations::Single(op), _) => op.node.ty == OperationType::Query,
            (DocumentOperations::Multiple(ops), Some(name)) => ops
                .get(name)
                .is_some_and(|op| op.node.ty == OperationType::Query),
            (DocumentOperations::Multiple(_), None) => false,
        };
        if is_query {
            request.data.insert(IsQuery);
        }
        request.data.insert(PasswordChecks::default());
        next.run(ctx, request).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        if ctx.data_opt::<IsQuery>().is_none() {
            return next.run(ctx, operation_name).await;
        }
        match tokio::time::timeout(self.query_timeout, next.run(ctx, operation_name)).await {
            Ok(response) => response,
            Err(_) => Response::from_errors(vec![coded_error(
                format!(
                    "The query took longer than {} s and was stopped; ask for less at once.",
                    self.query_timeout.as_secs()
                ),
                ErrorCode::Timeout,
                None,
            )]),
        }
    }
}

fn refused(message: String) -> ServerError {
    coded_error(message, ErrorCode::BadUserInput, None)
}

fn server_error(err: AppError) -> ServerError {
    let field = match &err {
        AppError::BadInput { field, .. } => Some(field.as_str()),
        _ => None,
    };
    coded_error(err.client_message(), err.code(), field)
}

/// One password check per request: `login` and `changePassword` claim it, and a second claim
/// in the same request (an alias) is refused before any hashing.
#[derive(Default)]
pub struct PasswordChecks(AtomicBool);

impl PasswordChecks {
    pub fn claim(&self) -> Result<(), AppError> {
        if self.0.swap(true, Ordering::SeqCst) {
            Err(AppError::bad_input(
                "login",
                "only one login or password change is allowed per request",
            ))
        } else {
            Ok(())
        }
    }
}

/// The most brackets, braces and parentheses open at once in GraphQL source text; strings,
/// block strings and comments do not count.
pub fn text_nesting(query: &str) -> usize {
    let bytes = query.as_bytes();
    let (mut depth, mut deepest, mut i) = (0usize, 0usize, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    // An escaped triple quote (\""") does not end a block string.
                    i += if bytes[i..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                i += 2; // the closing quotes (the loop's increment takes the third)
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'[' | b'{' | b'(' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' | b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    deepest
}

fn nesting_error(field: &str) -> AppError {
    AppError::bad_input(
        field,
        format!("nests more than {MAX_NESTING} levels of lists or objects"),
    )
}

fn check_const_value(value: &ConstValue, field: &str, level: usize) -> Result<(), AppError> {
    if level > MAX_NESTING {
        return Err(nesting_error(field));
    }
    match value {
        ConstValue::String(text) => check_text(field, text),
        ConstValue::List(items) => items
            .iter()
            .try_for_each(|item| check_const_value(item, field, level + 1)),
        ConstValue::Object(fields) => fields.iter().try_for_each(|(name, item)| {
            check_text(field, name.as_str())?;
            check_const_value(item, field, level + 1)
        }),
        _ => Ok(()),
    }
}

fn check_value(value: &Value, field: &str, level: usize) -> Result<(), AppError> {
    if level > MAX_NESTING {
        return Err(nesting_error(field));
    }
    match value {
        Value::String(text) => check_text(field, text),
        Value::List(items) => items
            .iter()
            .try_for_each(|item| check_value(item, field, level + 1)),
        Value::Object(fields) => fields
            .values()
            .try_for_each(|item| check_value(item, field, level + 1)),
        _ => Ok(()),
    }
}

/// Checks every string literal of the document: arguments of fields and directives (in
/// operations and fragments) and variables' default values.
fn check_document_text(document: &ExecutableDocument) -> Result<(), AppError> {
    fn arguments(args: &[(Positioned<Name>, Positioned<Value>)]) -> Result<(), AppError> {
        args.iter()
            .try_for_each(|(name, value)| check_value(&value.node, name.node.as_str(), 1))
    }
    fn directives(
        list: &[Positioned<async_graphql::parser::types::Directive>],
    ) -> Result<(), AppError> {
        list.iter()
            .try_for_each(|directive| arguments(&directive.node.arguments))
    }
    fn set(selections: &SelectionSet) -> Result<(), AppError> {
        selections
            .items
            .iter()
            .try_for_each(|selection| match &selection.node {
                Selection::Field(field) => {
                    arguments(&field.node.arguments)?;
                    directives(&field.node.directives)?;
                    set(&field.node.selection_set.node)
                }
                Selection::InlineFragment(inline) => {
                    directives(&inline.node.directives)?;
                    set(&inline.node.selection_set.node)
                }
                Selection::FragmentSpread(spread) => directives(&spread.node.directives),
            })
    }
    for (_, operation) in document.operations.iter() {
        directives(&operation.node.directives)?;
        for variable in &operation.node.variable_definitions {
            if let Some(default) = &variable.node.default_value {
                check_const_value(&default.node, variable.node.name.node.as_str(), 1)?;
            }
        }
        set(&operation.node.selection_set.node)?;
    }
    for fragment in document.fragments.values() {
        directives(&fragment.node.directives)?;
        set(&fragment.node.selection_set.node)?;
    }
    Ok(())
}

/// A fragment that (directly or not) spreads itself.
#[derive(Debug, PartialEq, Eq)]
pub struct Cycle(pub String);

/// Selections (fields, spreads, inline fragments) of every operation, with fragment spreads
/// expanded (saturating).
pub fn expanded_selections(document: &ExecutableDocument) -> Result<u64, Cycle> {
    let mut counter = Walker::new(&document.fragments);
    let mut total = 0u64;
    for (_, operation) in document.operations.iter() {
        total = total.saturating_add(counter.count(&operation.node.selection_set.node)?);
    }
    Ok(total)
}

/// The deepest field nesting of the document's operations, introspection apart.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Depths {
    pub regular: usize,
    pub introspection: usize,
}

/// Field depths with fragments expanded (a top-level field is depth 1). Fields under
/// `__schema` and `__type` count as introspection. Cycles count as depth 0 here; they are
/// refused by [`expanded_selections`] first.
pub fn depths(document: &ExecutableDocument) -> Depths {
    let mut walker = Walker::new(&document.fragments);
    let mut out = Depths::default();
    for (_, operation) in document.operations.iter() {
        walker.root_depths(&operation.node.selection_set.node, &mut out);
    }
    out
}

/// Walks selection sets with fragments memoized (their counts and depths do not depend on where
/// they are spread).
struct Walker<'d> {
    fragments: &'d HashMap<Name, Positioned<FragmentDefinition>>,
    counts: HashMap<&'d str, u64>,
    depths: HashMap<&'d str, usize>,
    /// Fragments being walked, so a cycle (refused later by validation) ends the walk.
    visiting: Vec<&'d str>,
}

impl<'d> Walker<'d> {
    fn new(fragments: &'d HashMap<Name, Positioned<FragmentDefinition>>) -> Self {
        Self {
            fragments,
            counts: HashMap::new(),
            depths: HashMap::new(),
            visiting: Vec::new(),
        }
    }

    fn count(&mut self, set: &'d SelectionSet) -> Result<u64, Cycle> {
        let mut total = 0u64;
        for selection in &set.items {
            let inner = match &selection.node {
                Selection::Field(field) => self.count(&field.node.selection_set.node)?,
                Selection::InlineFragment(inline) => self.count(&inline.node.selection_set.node)?,
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if let Some(count) = self.counts.get(name) {
                        *count
                    } else {
                        let Some((key, definition)) = self.enter(name)? else {
                            continue; // unknown fragment: validation reports it
                        };
                        let count = self.count(&definition.node.selection_set.node)?;
                        self.visiting.pop();
                        self.counts.insert(key, count);
                        count
                    }
                }
            };
            total = total.saturating_add(1).saturating_add(inner);
        }
        Ok(total)
    }

    /// Marks a fragment as being walked and returns it; a cycle is an error.
    #[allow(clippy::type_complexity)]
    fn enter(
        &mut self,
        name: &str,
    ) -> Result<Option<(&'d str, &'d Positioned<FragmentDefinition>)>, Cycle> {
        if self.visiting.contains(&name) {
            return Err(Cycle(name.to_owned()));
        }
        let Some((key, definition)) = self.fragments.get_key_value(name) else {
            return Ok(None);
        };
        self.visiting.push(key.as_str());
        Ok(Some((key.as_str(), definition)))
    }

    /// The depth of the deepest field in `set` (0 for an empty set).
    fn depth(&mut self, set: &'d SelectionSet) -> usize {
        let mut deepest = 0;
        for selection in &set.items {
            let depth = match &selection.node {
                Selection::Field(field) => 1 + self.depth(&field.node.selection_set.node),
                Selection::InlineFragment(inline) => self.depth(&inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    self.fragment_depth(spread.node.fragment_name.node.as_str())
                }
            };
            deepest = deepest.max(depth);
        }
        deepest
    }

    fn fragment_depth(&mut self, name: &str) -> usize {
        if let Some(depth) = self.depths.get(name) {
            return *depth;
        }
        let Ok(Some((key, definition))) = self.enter(name) else {
            return 0;
        };
        let depth = self.depth(&definition.node.selection_set.node);
        self.visiting.pop();
        self.depths.insert(key, depth);
        depth
    }

    /// Sorts an operation's top-level fields (looking through fragments) into introspection
    /// and the rest.
    fn root_depths(&mut self, set: &'d SelectionSet, out: &mut Depths) {
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    let depth = 1 + self.depth(&field.node.selection_set.node);
                    if matches!(field.node.name.node.as_str(), "__schema" | "__type") {
                        out.introspection = out.introspection.max(depth);
                    } else {
                        out.regular = out.regular.max(depth);
                    }
                }
                Selection::InlineFragment(inline) => {
                    self.root_depths(&inline.node.selection_set.node, out);
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if let Ok(Some((_, definition))) = self.enter(name) {
                        self.root_depths(&definition.node.selection_set.node, out);
                        self.visiting.pop();
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).unwrap()
    }

    fn count(query: &str) -> Result<u64, Cycle> {
        expanded_selections(&parse(query))
    }

    #[test]
    fn selections_are_counted_as_they_would_be_walked() {
        assert_eq!(count("{ a b { c d } }"), Ok(4));
        assert_eq!(count("{ x: a y: a }"), Ok(2));
        // Two spreads of two fields each.
        assert_eq!(count("{ ...F ...F } fragment F on Q { a b }"), Ok(6));
        assert_eq!(count("{ ... on Q { a } }"), Ok(2));
    }

    #[test]
    fn a_fragment_that_spreads_itself_is_a_cycle() {
        assert_eq!(
            count("{ ...A } fragment A on Q { a ...B } fragment B on Q { ...A }"),
            Err(Cycle("A".into()))
        );
        assert_eq!(
            count("{ ...A } fragment A on Q { ...A ...A }"),
            Err(Cycle("A".into()))
        );
    }

    #[test]
    fn a_fragment_bomb_is_counted_without_expanding_it() {
        let bomb: String = (1..=60)
            .map(|i| format!("fragment B{i} on Q {{ ...B{p} ...B{p} }} ", p = i - 1))
            .collect::<String>()
            + "fragment B0 on Q { a }";
        assert!(count(&format!("{{ ...B60 }} {bomb}")).unwrap() > 1u64 << 60);
    }

    #[test]
    fn depth_follows_fragments_and_sets_introspection_apart() {
        let d = depths(&parse(
            "{ a { b { c } } ...F __schema { types { fields { type { ofType { name } } } } } } \
             fragment F on Q { x { y { z { w } } } }",
        ));
        assert_eq!(
            d,
            Depths {
                regular: 4,
                introspection: 6
            }
        );
        let d = depths(&parse("{ ... on Q { __type(name: \"Q\") { name } } }"));
        assert_eq!(
            d,
            Depths {
                regular: 0,
                introspection: 2
            }
        );
    }

    #[test]
    fn nesting_skips_strings_block_strings_and_comments() {
        assert_eq!(text_nesting("{ a(b: [[1]]) { c } }"), 4);
        assert_eq!(text_nesting(r#"{ a(s: "[[[[{{{(") }"#), 2);
        assert_eq!(text_nesting(r#"{ a(s: "\"[[[") }"#), 2);
        assert_eq!(text_nesting("{ a(s: \"\"\" [[[ \\\"\"\" [[[ \"\"\") }"), 2);
        assert_eq!(text_nesting("# [[[[[[\n{ a }"), 1);
        assert_eq!(text_nesting(&"[".repeat(5000)), 5000);
    }

    #[test]
    fn control_characters_and_non_characters_are_refused() {
        for bad in [
            "a\u{0}b",
            "a\u{1}",
            "\u{b}",
            "\u{1b}[0m",
            "\u{fffe}",
            "\u{10ffff}",
            "\u{fdd0}",
        ] {
            assert!(check_text("title", bad).is_err(), "{bad:?}");
        }
        for good in ["Tentti\tja\nkoe\r\n", "äöå ÄÖÅ", "🙂", "\u{fffd}", "\u{7f}"] {
            assert!(check_text("body", good).is_ok(), "{good:?}");
        }
    }

    proptest! {
        /// Whatever the text, the scan ends, and it never counts more than the brackets
        /// outside strings and comments.
        #[test]
        fn nesting_is_bounded_by_the_brackets(text in "\\PC{0,300}") {
            let opening = text.bytes().filter(|b| matches!(b, b'[' | b'{' | b'(')).count();
            prop_assert!(text_nesting(&text) <= opening);
        }

        /// A document nested deeper than the limit is always refused before it is parsed, and
        /// one within it always parses without exhausting the stack.
        #[test]
        fn nesting_at_any_depth_is_measured_exactly(depth in 1usize..3000, kind in 0usize..3) {
            let (open, close) = [("[", "]"), ("{a:", "}"), ("[{a:", "}]")][kind];
            let per_level = if kind == 2 { 2 } else { 1 };
            let query = format!(
                "{{ tips(search: {}1{}) {{ id }} }}",
                open.repeat(depth),
                close.repeat(depth)
            );
            let nesting = text_nesting(&query);
            prop_assert_eq!(nesting, depth * per_level + 2);
            if nesting <= MAX_NESTING {
                prop_assert!(async_graphql::parser::parse_query(&query).is_ok());
            }
        }
    }
}
