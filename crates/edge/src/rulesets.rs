//! Compiling SecLang rulesets for sites: one per distinct (ruleset, paranoia level, excluded
//! rules), shared by every site that asks for the same.

use std::path::Path;

use mamori_core::config::edge::{RuleIds, RulesetConfig};
use mamori_waf::{Loader, ParseError, Ruleset};

/// What makes two sites' rulesets the same.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RulesetKey {
    pub name: String,
    pub paranoia: u8,
    /// Ids and id ranges, sorted, without duplicates.
    pub excluded: Vec<RuleIds>,
}

/// Engine settings the edge owns, loaded before the rule files: the engine on (sites that only
/// detect override it per transaction), bodies inspected within the edge's limits, and the
/// JSON and XML body processors chosen by content type as ModSecurity's recommended setup does.
fn base_settings(max_request_body: u64, max_response_body: u64) -> String {
    format!(
        r#"SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit {max_request_body}
SecRequestBodyNoFilesLimit {max_request_body}
SecResponseBodyAccess On
SecResponseBodyLimit {max_response_body}
SecResponseBodyMimeType text/plain text/html text/xml application/json
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\+|/)|text/)xml" "id:9500001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:9500002,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" "id:9500003,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{{reqbody_error_msg}}',severity:2"
"#
    )
}

/// Compiles one ruleset. `base` resolves relative paths (the configuration file's directory).
pub fn compile(
    key: &RulesetKey,
    config: &RulesetConfig,
    base: &Path,
    max_request_body: u64,
    max_response_body: u64,
) -> Result<Ruleset, ParseError> {
    let mut l = Loader::new();
    l.load_str(&base_settings(max_request_body, max_response_body), "(edge settings)", base)?;
    if let Some(setup) = &config.setup {
        l.load_file(&base.join(setup))?;
    }
    // After the setup file, so that the site's level wins over the file's default.
    let paranoia = format!(
        "SecAction \"id:9500010,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level={p},setvar:tx.detection_paranoia_level={p}\"\n",
        p = key.paranoia
    );
    l.load_str(&paranoia, "(site paranoia level)", base)?;
    for pattern in &config.rules {
        // `Include` expands patterns and names the file and line of any error.
        let quoted = pattern.replace('"', "\\\"");
        l.load_str(&format!("Include \"{quoted}\"\n"), &format!("(ruleset {})", key.name), base)?;
    }
    if !key.excluded.is_empty() {
        let ids: Vec<String> = key.excluded.iter().map(RuleIds::to_string).collect();
        l.load_str(&format!("SecRuleRemoveById {}\n", ids.join(" ")), "(site exclude_rules)", base)?;
    }
    l.build()
}
