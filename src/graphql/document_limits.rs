//! Refuses documents that are too big once their fragments are expanded, before anything else
//! looks at them: ten thousand aliases of a field that costs nothing, a "fragment bomb" (each
//! fragment spreading the previous one twice) that is short on the wire and exponential in the
//! server, or a fragment that spreads itself. The count is computed on the parsed document with
//! memoized fragments, so it is linear in the document's size whatever it would expand to.
//!
//! It runs in `prepare_request`, before async-graphql's own recursion-depth check, which walks
//! every expanded path and so takes exponential time on a fragment bomb under the depth limit
//! (25 levels took 37 s here) or on a self-spreading fragment.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::parser::types::{
    ExecutableDocument, FragmentDefinition, Selection, SelectionSet,
};
use async_graphql::{Name, Positioned, Request, ServerError, ServerResult};

/// Field selections a document may expand to (GraphiQL's introspection query has about 100).
pub const MAX_SELECTIONS: u64 = 2_000;

pub struct DocumentLimits;

impl ExtensionFactory for DocumentLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentLimitsExtension)
    }
}

struct DocumentLimitsExtension;

#[async_trait::async_trait]
impl Extension for DocumentLimitsExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        // Parsed once here; async-graphql reuses the parsed document.
        match expanded_selections(request.parsed_query()?) {
            Ok(selections) if selections <= MAX_SELECTIONS => next.run(ctx, request).await,
            Ok(selections) => Err(ServerError::new(
                format!(
                    "The query selects too much ({selections} selections once fragments are \
                     expanded; at most {MAX_SELECTIONS})."
                ),
                None,
            )),
            Err(Cycle(name)) => Err(ServerError::new(
                format!("Fragment `{name}` spreads itself."),
                None,
            )),
        }
    }
}

/// A fragment that (directly or not) spreads itself.
#[derive(Debug, PartialEq, Eq)]
pub struct Cycle(pub String);

/// Selections (fields, spreads, inline fragments) of every operation, with fragment spreads
/// expanded (saturating).
pub fn expanded_selections(document: &ExecutableDocument) -> Result<u64, Cycle> {
    let mut counter = Counter {
        fragments: &document.fragments,
        memo: HashMap::new(),
        visiting: Vec::new(),
    };
    let mut total = 0u64;
    for (_, operation) in document.operations.iter() {
        total = total.saturating_add(counter.set(&operation.node.selection_set.node)?);
    }
    Ok(total)
}

struct Counter<'d> {
    fragments: &'d HashMap<Name, Positioned<FragmentDefinition>>,
    memo: HashMap<&'d str, u64>,
    /// Fragments being counted, so a cycle (refused later by validation) ends the walk.
    visiting: Vec<&'d str>,
}

impl<'d> Counter<'d> {
    fn set(&mut self, set: &'d SelectionSet) -> Result<u64, Cycle> {
        let mut total = 0u64;
        for selection in &set.items {
            let inner = match &selection.node {
                Selection::Field(field) => self.set(&field.node.selection_set.node)?,
                Selection::InlineFragment(inline) => self.set(&inline.node.selection_set.node)?,
                Selection::FragmentSpread(spread) => {
                    self.fragment(spread.node.fragment_name.node.as_str())?
                }
            };
            total = total.saturating_add(1).saturating_add(inner);
        }
        Ok(total)
    }

    fn fragment(&mut self, name: &'d str) -> Result<u64, Cycle> {
        if let Some(count) = self.memo.get(name) {
            return Ok(*count);
        }
        if self.visiting.contains(&name) {
            return Err(Cycle(name.to_owned()));
        }
        let Some((key, definition)) = self.fragments.get_key_value(name) else {
            return Ok(0); // unknown fragment: validation reports it
        };
        self.visiting.push(key.as_str());
        let count = self.set(&definition.node.selection_set.node)?;
        self.visiting.pop();
        self.memo.insert(key.as_str(), count);
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(query: &str) -> Result<u64, Cycle> {
        expanded_selections(&async_graphql::parser::parse_query(query).unwrap())
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
}
