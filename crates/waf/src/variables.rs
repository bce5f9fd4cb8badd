//! Rule targets: `ARGS`, `REQUEST_HEADERS:User-Agent`, `!ARGS:/^json\./`, `&TX:count`, ...

use crate::operators::Rx;

macro_rules! vars {
    ($($v:ident = $s:literal,)*) => {
        /// A SecLang variable (collection or scalar).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Var { $($v,)* }
        impl Var {
            pub fn from_name(name: &str) -> Option<Var> {
                let up = name.to_ascii_uppercase();
                match up.as_str() { $($s => Some(Var::$v),)* _ => None }
            }
            pub fn name(self) -> &'static str {
                match self { $(Var::$v => $s,)* }
            }
        }
    };
}

vars! {
    Args = "ARGS",
    ArgsNames = "ARGS_NAMES",
    ArgsGet = "ARGS_GET",
    ArgsGetNames = "ARGS_GET_NAMES",
    ArgsPost = "ARGS_POST",
    ArgsPostNames = "ARGS_POST_NAMES",
    ArgsCombinedSize = "ARGS_COMBINED_SIZE",
    RequestHeaders = "REQUEST_HEADERS",
    RequestHeadersNames = "REQUEST_HEADERS_NAMES",
    RequestCookies = "REQUEST_COOKIES",
    RequestCookiesNames = "REQUEST_COOKIES_NAMES",
    RequestUri = "REQUEST_URI",
    RequestUriRaw = "REQUEST_URI_RAW",
    RequestFilename = "REQUEST_FILENAME",
    RequestBasename = "REQUEST_BASENAME",
    RequestLine = "REQUEST_LINE",
    RequestMethod = "REQUEST_METHOD",
    RequestProtocol = "REQUEST_PROTOCOL",
    QueryString = "QUERY_STRING",
    RequestBody = "REQUEST_BODY",
    RequestBodyLength = "REQUEST_BODY_LENGTH",
    Files = "FILES",
    FilesNames = "FILES_NAMES",
    FilesSizes = "FILES_SIZES",
    FilesCombinedSize = "FILES_COMBINED_SIZE",
    FilesTmpContent = "FILES_TMP_CONTENT",
    FilesTmpNames = "FILES_TMPNAMES",
    MultipartPartHeaders = "MULTIPART_PART_HEADERS",
    MultipartStrictError = "MULTIPART_STRICT_ERROR",
    MultipartUnmatchedBoundary = "MULTIPART_UNMATCHED_BOUNDARY",
    MultipartBoundaryQuoted = "MULTIPART_BOUNDARY_QUOTED",
    MultipartBoundaryWhitespace = "MULTIPART_BOUNDARY_WHITESPACE",
    MultipartDataBefore = "MULTIPART_DATA_BEFORE",
    MultipartDataAfter = "MULTIPART_DATA_AFTER",
    MultipartHeaderFolding = "MULTIPART_HEADER_FOLDING",
    MultipartInvalidHeaderFolding = "MULTIPART_INVALID_HEADER_FOLDING",
    MultipartLfLine = "MULTIPART_LF_LINE",
    MultipartCrlfLfLines = "MULTIPART_CRLF_LF_LINES",
    MultipartMissingSemicolon = "MULTIPART_MISSING_SEMICOLON",
    MultipartInvalidQuoting = "MULTIPART_INVALID_QUOTING",
    MultipartInvalidPart = "MULTIPART_INVALID_PART",
    MultipartFileLimitExceeded = "MULTIPART_FILE_LIMIT_EXCEEDED",
    MultipartFilename = "MULTIPART_FILENAME",
    MultipartName = "MULTIPART_NAME",
    ReqbodyError = "REQBODY_ERROR",
    ReqbodyErrorMsg = "REQBODY_ERROR_MSG",
    ReqbodyProcessor = "REQBODY_PROCESSOR",
    ReqbodyProcessorError = "REQBODY_PROCESSOR_ERROR",
    Xml = "XML",
    ResponseBody = "RESPONSE_BODY",
    ResponseHeaders = "RESPONSE_HEADERS",
    ResponseHeadersNames = "RESPONSE_HEADERS_NAMES",
    ResponseStatus = "RESPONSE_STATUS",
    ResponseProtocol = "RESPONSE_PROTOCOL",
    ResponseContentType = "RESPONSE_CONTENT_TYPE",
    ResponseContentLength = "RESPONSE_CONTENT_LENGTH",
    Tx = "TX",
    Ip = "IP",
    Global = "GLOBAL",
    Session = "SESSION",
    User = "USER",
    Resource = "RESOURCE",
    Env = "ENV",
    Geo = "GEO",
    Rule = "RULE",
    MatchedVar = "MATCHED_VAR",
    MatchedVarName = "MATCHED_VAR_NAME",
    MatchedVars = "MATCHED_VARS",
    MatchedVarsNames = "MATCHED_VARS_NAMES",
    RemoteAddr = "REMOTE_ADDR",
    RemotePort = "REMOTE_PORT",
    RemoteHost = "REMOTE_HOST",
    ServerName = "SERVER_NAME",
    ServerAddr = "SERVER_ADDR",
    ServerPort = "SERVER_PORT",
    UniqueId = "UNIQUE_ID",
    UrlencodedError = "URLENCODED_ERROR",
    InboundDataError = "INBOUND_DATA_ERROR",
    OutboundDataError = "OUTBOUND_DATA_ERROR",
    FullRequest = "FULL_REQUEST",
    FullRequestLength = "FULL_REQUEST_LENGTH",
    StatusLine = "STATUS_LINE",
    AuthType = "AUTH_TYPE",
    Duration = "DURATION",
    HighestSeverity = "HIGHEST_SEVERITY",
    Time = "TIME",
    TimeEpoch = "TIME_EPOCH",
    PathInfo = "PATH_INFO",
    Webappid = "WEBAPPID",
}

/// A key selector after `:`; keys compare case-insensitively as in ModSecurity.
#[derive(Debug, Clone)]
pub enum Selector {
    Key(String),
    /// Case-insensitive; look-around is allowed (`!ARGS:/(?!ref)/`), as with PCRE.
    Regex(std::sync::Arc<Rx>),
}

impl Selector {
    pub fn regex(pattern: &str) -> Result<Selector, String> {
        Ok(Selector::Regex(std::sync::Arc::new(Rx::new(&format!("(?i){pattern}"))?)))
    }

    pub fn matches(&self, key: &[u8]) -> bool {
        match self {
            Selector::Key(k) => k.as_bytes().eq_ignore_ascii_case(key),
            Selector::Regex(r) => r.is_match(key),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Target {
    pub var: Var,
    pub selector: Option<Selector>,
    pub count: bool,
    pub exclude: bool,
}

/// Parses `ARGS|!ARGS:foo|&TX:/^a/`; a `|` inside a `/regex/` selector does not split.
pub fn parse_targets(s: &str) -> Result<Vec<Target>, String> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let mut in_regex = false;
        let mut after_colon = false;
        while i < b.len() {
            let c = b[i];
            if in_regex {
                if c == b'\\' {
                    i += 2;
                    continue;
                }
                if c == b'/' {
                    in_regex = false;
                }
            } else if c == b'|' {
                break;
            } else if c == b':' && !after_colon {
                after_colon = true;
                if b.get(i + 1) == Some(&b'/') && b.get(i + 2) != Some(&b'*') {
                    in_regex = true;
                    i += 1;
                }
            }
            i += 1;
        }
        let part = s[start..i.min(b.len())].trim();
        i += 1;
        if part.is_empty() {
            continue;
        }
        out.push(parse_target(part)?);
    }
    if out.is_empty() {
        return Err("no variables".into());
    }
    Ok(out)
}

pub fn parse_target(part: &str) -> Result<Target, String> {
    let mut p = part;
    let mut exclude = false;
    let mut count = false;
    if let Some(r) = p.strip_prefix('!') {
        exclude = true;
        p = r;
    }
    if let Some(r) = p.strip_prefix('&') {
        count = true;
        p = r;
    }
    let (name, sel) = match p.split_once(':') {
        Some((n, s)) => (n, Some(s)),
        None => (p, None),
    };
    // `TX.foo` is accepted for `TX:foo`, as ModSecurity does.
    let (name, sel) = match (sel, name.split_once('.')) {
        (None, Some((n, s))) if Var::from_name(n).is_some() => (n, Some(s)),
        _ => (name, sel),
    };
    let var = Var::from_name(name).ok_or_else(|| format!("unknown variable '{name}'"))?;
    // A quoted selector (`ARGS:'/^a/'`) is the same as an unquoted one.
    let sel = sel.map(|s| s.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')).unwrap_or(s));
    let selector = match sel {
        None => None,
        Some(s) if s.len() >= 2 && s.starts_with('/') && s.ends_with('/') => {
            Some(Selector::regex(&s[1..s.len() - 1]).map_err(|e| format!("bad selector regex in '{part}': {e}"))?)
        }
        Some(s) => {
            let s = s.trim_matches('\'');
            if s.is_empty() {
                return Err(format!("empty selector in '{part}'"));
            }
            Some(Selector::Key(s.to_string()))
        }
    };
    Ok(Target { var, selector, count, exclude })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        let t = parse_targets("ARGS|!ARGS:/a|b/|&TX:x|REQUEST_HEADERS:User-Agent|XML:/*|ARGS").unwrap();
        assert_eq!(t.len(), 6);
        assert!(t[1].exclude);
        assert!(t[1].selector.as_ref().unwrap().matches(b"xbx"));
        assert!(t[2].count);
        assert!(t[3].selector.as_ref().unwrap().matches(b"user-agent"));
        assert!(parse_targets("NOPE").is_err());
        assert!(parse_targets("!ARGS").unwrap()[0].exclude);
    }
}
