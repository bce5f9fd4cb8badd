//! A Sigma detection rule compiled for each of its log source targets.

use serde_json::Value as Json;
use serde_norway::{Mapping, Value};

use crate::condition::{self, Expr};
use crate::detection::{CompileContext, Search};
use crate::error::CompileError;
use crate::pipeline::{Pipeline, Target};
use crate::rule::{LogSource, RuleMeta, scalar_text};

/// A rule ready to evaluate.
#[derive(Debug)]
pub struct CompiledRule {
    pub meta: RuleMeta,
    pub logsource: LogSource,
    /// One per target of the log source (process_creation: Sysmon 1 and Security 4688).
    pub variants: Vec<Variant>,
    /// Why the rule has no variant (its log source is not among mamori's events).
    pub unmapped: Option<String>,
}

#[derive(Debug)]
pub struct Variant {
    /// Where its events are and how its fields are named.
    pub target: Target,
    /// The log source's own conditions (`EventType: CreateKey`), all required.
    pub preconditions: Vec<Search>,
    pub searches: Vec<Search>,
    pub condition: Expr,
}

/// Options of compilation.
#[derive(Default)]
pub struct CompileOptions<'a> {
    /// Values of `%placeholder%` names for the `expand` modifier.
    pub placeholders: Option<&'a dyn Fn(&str) -> Option<Vec<String>>>,
}

impl CompiledRule {
    /// Compiles a detection. A log source without a mapping still compiles (against plain
    /// field names) so the rule is checked; it just has no variant to run live.
    pub fn compile(
        meta: RuleMeta,
        logsource: LogSource,
        detection: &Mapping,
        pipeline: &Pipeline,
        options: &CompileOptions,
    ) -> Result<CompiledRule, CompileError> {
        let (targets, unmapped) = match pipeline.resolve(&logsource) {
            Ok(t) => (t, None),
            Err(reason) => (Vec::new(), Some(reason)),
        };
        let no_placeholders = |_: &str| None;
        let placeholder = options.placeholders.unwrap_or(&no_placeholders);
        let mut variants = Vec::with_capacity(targets.len());
        for t in &targets {
            variants.push(compile_variant(detection, t, placeholder)?);
        }
        if targets.is_empty() {
            // Compile once with plain names: errors in the rule are found all the same.
            let plain = |f: &str| crate::event::FieldPath::new(f);
            let ctx = CompileContext { field: &plain, placeholder };
            compile_detection(detection, &ctx)?;
        }
        Ok(CompiledRule { meta, logsource, variants, unmapped })
    }

    /// Whether the event matches through any variant whose scope holds it (the caller has
    /// checked the scope through the index, or passes `check_scope`).
    /// The event IDs a variant can match: its log source's, narrowed by `EventID` values the
    /// condition requires (most Security rules name theirs). Empty: any; `None`: the two
    /// disagree, the variant can never match.
    pub fn event_ids(&self, variant: usize) -> Option<Vec<u64>> {
        let v = &self.variants[variant];
        let scope_ids = match &v.target.scope {
            crate::pipeline::Scope::Windows { event_ids, .. } => event_ids.clone(),
            crate::pipeline::Scope::Datasets(_) => return Some(Vec::new()),
        };
        let path = v.target.field_path("EventID");
        let required = v.condition.required(&|i| v.searches[i].required_values(path.as_str()));
        let required: Option<Vec<u64>> =
            required.and_then(|vals| vals.iter().map(|t| t.trim().parse::<u64>().ok()).collect());
        match required {
            // A value that is no number cannot narrow (it never matches a numeric ID anyway).
            Some(ids) if !ids.is_empty() => {
                if scope_ids.is_empty() {
                    Some(ids)
                } else {
                    let both: Vec<u64> = scope_ids.into_iter().filter(|i| ids.contains(i)).collect();
                    (!both.is_empty()).then_some(both)
                }
            }
            _ => Some(scope_ids),
        }
    }

    pub fn matches_variant(&self, variant: usize, event: &Json) -> bool {
        self.matches_variant_in(variant, &crate::event::EventView::new(event))
    }

    /// As [`CompiledRule::matches_variant`], sharing the field lookups of `event` with other rules.
    pub fn matches_variant_in(&self, variant: usize, event: &crate::event::EventView) -> bool {
        let v = &self.variants[variant];
        v.preconditions.iter().all(|p| p.matches(event)) && v.condition.eval(&mut |i| v.searches[i].matches(event))
    }
}

fn compile_variant(
    detection: &Mapping,
    target: &Target,
    placeholder: &dyn Fn(&str) -> Option<Vec<String>>,
) -> Result<Variant, CompileError> {
    let field = |f: &str| target.field_path(f);
    let ctx = CompileContext { field: &field, placeholder };
    let (searches, condition) = compile_detection(detection, &ctx)?;
    let preconditions = target
        .conditions
        .iter()
        .map(|(f, v)| {
            let mut m = Mapping::new();
            m.insert(Value::String(f.clone()), Value::String(v.clone()));
            Search::compile(&Value::Mapping(m), &ctx)
        })
        .collect::<Result<_, _>>()?;
    Ok(Variant { target: target.clone(), preconditions, searches, condition })
}

fn compile_detection(detection: &Mapping, ctx: &CompileContext) -> Result<(Vec<Search>, Expr), CompileError> {
    let mut names = Vec::new();
    let mut searches = Vec::new();
    let mut condition = None;
    for (k, v) in detection {
        let key = scalar_text(k).ok_or_else(|| CompileError::Invalid("a search identifier must be text".into()))?;
        match key.as_str() {
            "condition" => condition = Some(v),
            // Sigma v1's aggregation window; correlation rules replace it.
            "timeframe" => {}
            _ => {
                let search = Search::compile(v, ctx).map_err(|e| match e {
                    CompileError::Invalid(m) => CompileError::Invalid(format!("{key}: {m}")),
                    other => other,
                })?;
                names.push(key);
                searches.push(search);
            }
        }
    }
    let texts: Vec<String> = match condition {
        None => return Err(CompileError::Missing("condition")),
        Some(Value::String(s)) => vec![s.clone()],
        // A list of conditions: any of them.
        Some(Value::Sequence(items)) => items.iter().filter_map(scalar_text).collect(),
        Some(_) => return Err(CompileError::Condition("must be text or a list of texts".into())),
    };
    if texts.is_empty() {
        return Err(CompileError::Condition("empty".into()));
    }
    let mut exprs = texts.iter().map(|t| condition::parse(t, &names)).collect::<Result<Vec<_>, _>>()?;
    let expr = if exprs.len() == 1 { exprs.pop().expect("one") } else { Expr::Or(exprs) };
    Ok((searches, expr))
}
