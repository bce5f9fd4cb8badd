//! Reading variables from a transaction: rule targets (with `!` exclusions, `&` counts and
//! selectors) and `%{...}` macro references.

use std::borrow::Cow;

use crate::engine::Transaction;
use crate::macros::Resolve;
use crate::rule::Rule;
use crate::variables::{Selector, Var};

type Entry<'a> = (Cow<'a, [u8]>, Cow<'a, [u8]>);

fn pairs(p: &[(Vec<u8>, Vec<u8>)]) -> impl Iterator<Item = Entry<'_>> {
    p.iter().map(|(k, v)| (Cow::Borrowed(k.as_slice()), Cow::Borrowed(v.as_slice())))
}

fn headers(h: &[(String, Vec<u8>)]) -> Vec<Entry<'_>> {
    h.iter().map(|(k, v)| (Cow::Borrowed(k.as_bytes()), Cow::Borrowed(v.as_slice()))).collect()
}

fn names(p: &[(Vec<u8>, Vec<u8>)]) -> impl Iterator<Item = Entry<'_>> {
    p.iter().map(|(k, _)| (Cow::Borrowed(k.as_slice()), Cow::Borrowed(k.as_slice())))
}

impl Transaction<'_> {
    /// All (key, value) entries of a variable; scalars have an empty key.
    pub(crate) fn entries(&self, var: Var) -> Vec<Entry<'_>> {
        let scalar = |v: Vec<u8>| vec![(Cow::Borrowed(&b""[..]), Cow::Owned(v))];
        let req = &self.req;
        let resp = self.resp.as_ref();
        match var {
            Var::Args => pairs(&self.args_get).chain(pairs(&self.body.args_post)).collect(),
            Var::ArgsNames => names(&self.args_get).chain(names(&self.body.args_post)).collect(),
            Var::ArgsGet => pairs(&self.args_get).collect(),
            Var::ArgsGetNames => names(&self.args_get).collect(),
            Var::ArgsPost => pairs(&self.body.args_post).collect(),
            Var::ArgsPostNames => names(&self.body.args_post).collect(),
            Var::ArgsCombinedSize => {
                let n: usize = self.args_get.iter().chain(&self.body.args_post).map(|(k, v)| k.len() + v.len()).sum();
                scalar(n.to_string().into_bytes())
            }
            Var::RequestHeaders => headers(&req.headers),
            Var::RequestHeadersNames => {
                req.headers.iter().map(|(k, _)| (Cow::Borrowed(k.as_bytes()), Cow::Borrowed(k.as_bytes()))).collect()
            }
            Var::RequestCookies => pairs(&self.cookies).collect(),
            Var::RequestCookiesNames => names(&self.cookies).collect(),
            Var::RequestUri => scalar(req.request_uri().as_bytes().to_vec()),
            Var::RequestUriRaw => scalar(req.uri.as_bytes().to_vec()),
            Var::RequestFilename | Var::PathInfo => scalar(req.decoded_path()),
            Var::RequestBasename => {
                let p = req.decoded_path();
                let start = p.iter().rposition(|&c| c == b'/' || c == b'\\').map(|i| i + 1).unwrap_or(0);
                scalar(p[start..].to_vec())
            }
            Var::RequestLine => scalar(format!("{} {} {}", req.method, req.uri, req.protocol).into_bytes()),
            Var::RequestMethod => scalar(req.method.as_bytes().to_vec()),
            Var::RequestProtocol => scalar(req.protocol.as_bytes().to_vec()),
            Var::QueryString => scalar(req.query().as_bytes().to_vec()),
            Var::RequestBody => {
                let show = self.force_body_var
                    || !matches!(self.body_processor.as_deref(), Some("MULTIPART") | Some("XML") | Some("JSON"));
                if show && self.request_body_access { scalar(req.body.clone()) } else { Vec::new() }
            }
            Var::RequestBodyLength => scalar(req.body.len().to_string().into_bytes()),
            Var::Files => pairs(&self.body.files).collect(),
            Var::FilesNames => names(&self.body.files).collect(),
            Var::FilesSizes => pairs(&self.body.files_sizes).collect(),
            Var::FilesCombinedSize => {
                let n: i64 = self
                    .body
                    .files_sizes
                    .iter()
                    .map(|(_, v)| crate::operators::atoi(&String::from_utf8_lossy(v)))
                    .sum();
                scalar(n.to_string().into_bytes())
            }
            Var::FilesTmpContent => pairs(&self.body.files_content).collect(),
            // Uploads are inspected in memory, never stored: there are no temporary files.
            Var::FilesTmpNames => Vec::new(),
            Var::MultipartPartHeaders => pairs(&self.body.part_headers).collect(),
            Var::MultipartFilename => self.body.multipart_filenames.iter().map(|f| keyed(f)).collect(),
            Var::MultipartName => self.body.multipart_names.iter().map(|n| keyed(n)).collect(),
            Var::MultipartStrictError
            | Var::MultipartUnmatchedBoundary
            | Var::MultipartBoundaryQuoted
            | Var::MultipartBoundaryWhitespace
            | Var::MultipartDataBefore
            | Var::MultipartDataAfter
            | Var::MultipartHeaderFolding
            | Var::MultipartInvalidHeaderFolding
            | Var::MultipartLfLine
            | Var::MultipartCrlfLfLines
            | Var::MultipartMissingSemicolon
            | Var::MultipartInvalidQuoting
            | Var::MultipartInvalidPart
            | Var::MultipartFileLimitExceeded => match &self.body.multipart {
                Some(f) => scalar(multipart_flag(var, f)),
                // Only a multipart body has them (as in libmodsecurity): nothing to inspect.
                None => Vec::new(),
            },
            Var::ReqbodyError | Var::ReqbodyProcessorError => scalar(flag(self.body.error.is_some())),
            Var::ReqbodyErrorMsg => scalar(self.body.error.clone().unwrap_or_default().into_bytes()),
            Var::ReqbodyProcessor => scalar(self.body_processor.clone().unwrap_or_default().into_bytes()),
            Var::InboundDataError => scalar(flag(self.inbound_data_error)),
            Var::OutboundDataError => scalar(flag(self.outbound_data_error)),
            Var::UrlencodedError => scalar(flag(self.query_urlencoded_error || self.body.urlencoded_error)),
            Var::Xml => match &self.body.xml_text {
                Some(t) => vec![(Cow::Borrowed(&b""[..]), Cow::Borrowed(t.as_slice()))],
                None => Vec::new(),
            },
            Var::ResponseBody => match resp {
                Some(r) if self.response_body_visible() => scalar(r.body.clone()),
                _ => Vec::new(),
            },
            Var::ResponseHeaders => resp.map(|r| headers(&r.headers)).unwrap_or_default(),
            Var::ResponseHeadersNames => resp
                .map(|r| {
                    r.headers.iter().map(|(k, _)| (Cow::Borrowed(k.as_bytes()), Cow::Borrowed(k.as_bytes()))).collect()
                })
                .unwrap_or_default(),
            // After an interruption the client gets its status, not the origin's.
            Var::ResponseStatus => match (self.interruption(), resp) {
                (Some(i), _) => scalar(i.status.to_string().into_bytes()),
                (None, Some(r)) => scalar(r.status.to_string().into_bytes()),
                (None, None) => Vec::new(),
            },
            Var::ResponseProtocol => resp.map(|r| scalar(r.protocol.as_bytes().to_vec())).unwrap_or_default(),
            Var::ResponseContentType => {
                resp.and_then(|r| r.header("content-type")).map(|v| scalar(v.to_vec())).unwrap_or_default()
            }
            Var::ResponseContentLength => {
                resp.map(|r| scalar(r.body.len().to_string().into_bytes())).unwrap_or_default()
            }
            Var::Tx | Var::Ip | Var::Global | Var::Session | Var::User | Var::Resource => {
                match self.collections.get(var.name()) {
                    Some(c) => {
                        c.iter().map(|(k, v)| (Cow::Borrowed(k.as_bytes()), Cow::Borrowed(v.as_slice()))).collect()
                    }
                    None => Vec::new(),
                }
            }
            Var::MatchedVar => self.matched_var.as_ref().map(|(_, v)| scalar(v.clone())).unwrap_or_default(),
            Var::MatchedVarName => {
                self.matched_var.as_ref().map(|(n, _)| scalar(n.clone().into_bytes())).unwrap_or_default()
            }
            Var::MatchedVars => self
                .matched_vars
                .iter()
                .map(|(n, v)| (Cow::Borrowed(n.as_bytes()), Cow::Borrowed(v.as_slice())))
                .collect(),
            Var::MatchedVarsNames => self
                .matched_vars
                .iter()
                .map(|(n, _)| (Cow::Borrowed(n.as_bytes()), Cow::Borrowed(n.as_bytes())))
                .collect(),
            Var::RemoteAddr => scalar(req.remote_addr.as_bytes().to_vec()),
            Var::RemotePort => scalar(req.remote_port.to_string().into_bytes()),
            Var::ServerPort => scalar(req.server_port.to_string().into_bytes()),
            Var::ServerName => {
                let host = req.header("host").unwrap_or_default();
                let h = host.split(|&c| c == b':').next().unwrap_or_default();
                scalar(h.to_vec())
            }
            Var::ServerAddr => scalar(b"127.0.0.1".to_vec()),
            Var::UniqueId => scalar(self.unique_id.as_bytes().to_vec()),
            Var::FullRequestLength => scalar(req.body.len().to_string().into_bytes()),
            Var::Rule => match &self.current_rule {
                Some(r) => {
                    let mut v = vec![
                        (Cow::Borrowed(&b"id"[..]), Cow::Owned(r.id.to_string().into_bytes())),
                        (Cow::Borrowed(&b"phase"[..]), Cow::Owned(r.phase.to_string().into_bytes())),
                    ];
                    if let Some(s) = r.severity {
                        v.push((Cow::Borrowed(&b"severity"[..]), Cow::Owned(s.to_string().into_bytes())));
                    }
                    if let Some(m) = r.msg.as_ref().and_then(|m| m.literal()) {
                        v.push((Cow::Borrowed(&b"msg"[..]), Cow::Owned(m.to_vec())));
                    }
                    v
                }
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    /// The (name, value) pairs a rule link inspects.
    pub(crate) fn collect(&self, top: &Rule, link: &Rule) -> Vec<(String, Vec<u8>)> {
        let runtime = self.runtime_exclusions(top);
        let mut out = Vec::new();
        for t in link.targets.iter().filter(|t| !t.exclude) {
            // As in libmodsecurity, a `/regex/` exclusion removes every key it matches, whatever
            // the variable (`!ARGS:/^x/` also spares ARGS_NAMES:xy); others name their variable.
            let applies = |x: &&crate::variables::Target| {
                x.var == t.var || matches!(x.selector, Some(crate::variables::Selector::Regex(_)))
            };
            let excluded = |key: &[u8]| {
                link.targets
                    .iter()
                    .filter(|x| x.exclude)
                    .chain(runtime.iter().copied())
                    .filter(applies)
                    .any(|x| x.selector.as_ref().is_none_or(|s| s.matches(key)))
            };
            let entries = match (t.var, &t.selector) {
                // XPath is not evaluated: `XML://@*` is every attribute value, else all text.
                (Var::Xml, Some(Selector::Key(k))) if k.contains('@') => {
                    self.body.xml_attrs.iter().map(|v| (Cow::Borrowed(&b""[..]), Cow::Borrowed(v.as_slice()))).collect()
                }
                _ => self.entries(t.var),
            };
            let selected = entries.into_iter().filter(|(k, _)| {
                t.selector.as_ref().is_none_or(|s| match (t.var, s) {
                    (Var::Xml, _) => true,
                    (_, s) => s.matches(k),
                }) && !excluded(k)
            });
            if t.count {
                out.push((format!("&{}", t.var.name()), selected.count().to_string().into_bytes()));
                continue;
            }
            for (k, v) in selected {
                let name = if k.is_empty() {
                    t.var.name().to_string()
                } else {
                    format!("{}:{}", t.var.name(), String::from_utf8_lossy(&k))
                };
                out.push((name, v.into_owned()));
            }
        }
        out
    }
}

fn flag(b: bool) -> Vec<u8> {
    if b { b"1".to_vec() } else { b"0".to_vec() }
}

/// A value keyed by itself (MULTIPART_NAME:foo).
fn keyed(v: &[u8]) -> Entry<'_> {
    (Cow::Borrowed(v), Cow::Borrowed(v))
}

fn multipart_flag(var: Var, f: &crate::multipart::Flags) -> Vec<u8> {
    if var == Var::MultipartUnmatchedBoundary {
        return f.unmatched_boundary.to_string().into_bytes();
    }
    flag(match var {
        Var::MultipartStrictError => f.strict_error(),
        Var::MultipartBoundaryQuoted => f.boundary_quoted,
        Var::MultipartBoundaryWhitespace => f.boundary_whitespace,
        Var::MultipartDataBefore => f.data_before,
        Var::MultipartDataAfter => f.data_after,
        Var::MultipartHeaderFolding => f.header_folding,
        Var::MultipartInvalidHeaderFolding => f.invalid_header_folding,
        Var::MultipartLfLine => f.lf_line,
        Var::MultipartCrlfLfLines => f.mixed_line_endings(),
        Var::MultipartMissingSemicolon => f.missing_semicolon,
        Var::MultipartInvalidQuoting => f.invalid_quoting,
        Var::MultipartInvalidPart => f.invalid_part,
        Var::MultipartFileLimitExceeded => f.file_limit_exceeded,
        _ => false,
    })
}

impl Resolve for Transaction<'_> {
    fn resolve(&self, name: &str, key: Option<&str>) -> Option<Vec<u8>> {
        let var = Var::from_name(name)?;
        let entries = self.entries(var);
        match key {
            None => entries.into_iter().next().map(|(_, v)| v.into_owned()),
            Some(k) => {
                let sel = match k.strip_prefix('/').and_then(|x| x.strip_suffix('/')) {
                    Some(re) => Selector::regex(re).ok()?,
                    None => Selector::Key(k.to_string()),
                };
                entries.into_iter().find(|(ek, _)| sel.matches(ek)).map(|(_, v)| v.into_owned())
            }
        }
    }
}
