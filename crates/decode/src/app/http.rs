//! HTTP/1.x requests through `httparse`: method, Host, URI, User-Agent, Content-Type.

/// Methods that start a request we dissect (RFC 9110 plus the common WebDAV ones).
const METHODS: &[&[u8]] = &[
    b"GET ",
    b"POST ",
    b"HEAD ",
    b"PUT ",
    b"DELETE ",
    b"OPTIONS ",
    b"CONNECT ",
    b"TRACE ",
    b"PATCH ",
    b"PROPFIND ",
    b"PROPPATCH ",
    b"MKCOL ",
    b"COPY ",
    b"MOVE ",
    b"LOCK ",
    b"UNLOCK ",
    b"REPORT ",
    b"SEARCH ",
    b"NOTIFY ",
    b"M-SEARCH ",
    b"SUBSCRIBE ",
];

/// What an HTTP request says, borrowed from its bytes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Request<'a> {
    /// Method, e.g. `GET`.
    pub method: &'a str,
    /// Request target as sent (bytes: it may not be UTF-8; see [`crate::text::lossy`]).
    pub uri: &'a [u8],
    /// Host header value, as sent.
    pub host: Option<&'a [u8]>,
    /// User-Agent header value.
    pub user_agent: Option<&'a [u8]>,
    /// Content-Type header value (`application/ocsp-request` marks OCSP).
    pub content_type: Option<&'a [u8]>,
    /// Whether the header block was complete.
    pub complete: bool,
}

impl Request<'_> {
    /// The Host without port, lower-cased (lossy for non-UTF-8).
    pub fn host_name(&self) -> Option<String> {
        let h = crate::text::lossy(self.host?).trim().to_ascii_lowercase();
        let h = if h.starts_with('[') {
            h.split(']')
                .next()
                .unwrap_or("")
                .trim_start_matches('[')
                .to_string()
        } else {
            h.rsplit_once(':')
                .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
                .map_or(h.clone(), |(n, _)| n.to_string())
        };
        Some(h.trim_end_matches('.').to_string())
    }

    /// Whether this request is an OCSP query (by content type or an OCSP-style GET).
    pub fn is_ocsp(&self) -> bool {
        self.content_type
            .is_some_and(|c| c.eq_ignore_ascii_case(b"application/ocsp-request"))
    }
}

/// Whether `payload` starts with an HTTP request method.
pub fn looks_like_request(payload: &[u8]) -> bool {
    METHODS.iter().any(|m| payload.starts_with(m))
}

/// Most headers read from one request.
const MAX_HEADERS: usize = 64;

/// Parses an HTTP/1.x request head. A head cut short still yields the method, URI and the headers
/// whose lines are whole; `None` when `payload` is not a request.
pub fn parse_request(payload: &[u8]) -> Option<Request<'_>> {
    if !looks_like_request(payload) {
        return None;
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(payload) {
        Ok(status) => {
            let complete = status.is_complete();
            let mut out = Request {
                method: req.method?,
                uri: req.path.unwrap_or("").as_bytes(),
                complete,
                ..Request::default()
            };
            if complete {
                fill(&mut out, req.headers);
                return Some(out);
            }
            // httparse does not return the headers of a partial head: parse again up to the
            // last complete header line.
            let Some(cut) = payload
                .windows(2)
                .rposition(|w| w == b"\r\n")
                .map(|p| p + 2)
            else {
                return Some(out);
            };
            let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut again = httparse::Request::new(&mut headers);
            let mut closed = payload[..cut].to_vec();
            closed.extend_from_slice(b"\r\n");
            if again.parse(&closed).is_ok() {
                for h in again.headers.iter() {
                    // Map back into `payload`: the header line is a prefix shared by both.
                    if let Some(v) = find_header(payload, cut, h.name) {
                        match h.name.to_ascii_lowercase().as_str() {
                            "host" => out.host = Some(v),
                            "user-agent" => out.user_agent = Some(v),
                            "content-type" => out.content_type = Some(v),
                            _ => {}
                        }
                    }
                }
            }
            Some(out)
        }
        Err(_) => lenient(payload),
    }
}

/// A head httparse rejects (spaces in the target, folded headers, control bytes): the method
/// and the headers found line by line, when there is at least a Host header.
fn lenient(payload: &[u8]) -> Option<Request<'_>> {
    let sp = payload.iter().position(|&b| b == b' ')?;
    let method = std::str::from_utf8(&payload[..sp]).ok()?;
    let end = payload
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 2);
    let cut = end.unwrap_or(payload.len());
    let get = |name| find_header(payload, cut, name);
    // The target: from after the method to the last " HTTP/" of the first line.
    let line_end = payload
        .iter()
        .position(|&b| b == b'\r' || b == b'\n')
        .unwrap_or(payload.len());
    let line = &payload[sp + 1..line_end.max(sp + 1)];
    let target = line
        .windows(6)
        .rposition(|w| w == b" HTTP/")
        .map_or(line, |p| &line[..p]);
    Some(Request {
        method,
        uri: target,
        host: Some(get("host")?),
        user_agent: get("user-agent"),
        content_type: get("content-type"),
        complete: end.is_some(),
    })
}

fn fill<'a>(out: &mut Request<'a>, headers: &[httparse::Header<'a>]) {
    for h in headers {
        if h.name.eq_ignore_ascii_case("host") {
            out.host.get_or_insert(h.value);
        } else if h.name.eq_ignore_ascii_case("user-agent") {
            out.user_agent.get_or_insert(h.value);
        } else if h.name.eq_ignore_ascii_case("content-type") {
            out.content_type.get_or_insert(h.value);
        }
    }
}

/// Finds the value of header `name` in `payload[..end]`, trimmed, as a borrowed slice.
fn find_header<'a>(payload: &'a [u8], end: usize, name: &str) -> Option<&'a [u8]> {
    let head = &payload[..end];
    let mut start = head.windows(2).position(|w| w == b"\r\n")? + 2;
    while start < head.len() {
        let line_end = head[start..]
            .windows(2)
            .position(|w| w == b"\r\n")
            .map_or(head.len(), |p| start + p);
        let line = &head[start..line_end];
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            if line[..colon].eq_ignore_ascii_case(name.as_bytes()) {
                return Some(line[colon + 1..].trim_ascii());
            }
        }
        start = line_end + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captive_probe() {
        let p = b"GET /library/test/success.html HTTP/1.0\r\nHost: www.apple.com\r\nUser-Agent: CaptiveNetworkSupport-390 wispr\r\n\r\n";
        let r = parse_request(p).unwrap();
        assert_eq!(
            (r.method, r.uri),
            ("GET", &b"/library/test/success.html"[..])
        );
        assert_eq!(r.host_name().as_deref(), Some("www.apple.com"));
        assert_eq!(r.user_agent, Some(&b"CaptiveNetworkSupport-390 wispr"[..]));
        assert!(r.complete && !r.is_ocsp());
    }

    #[test]
    fn ocsp_post_and_port_in_host() {
        let p = b"POST / HTTP/1.1\r\nHost: ocsp.apple.com:80\r\nContent-Type: application/ocsp-request\r\nContent-Length: 83\r\n\r\n";
        let r = parse_request(p).unwrap();
        assert!(r.is_ocsp());
        assert_eq!(r.host_name().as_deref(), Some("ocsp.apple.com"));
        let p = b"GET / HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n\r\n";
        assert_eq!(
            parse_request(p).unwrap().host_name().as_deref(),
            Some("2001:db8::1")
        );
    }

    #[test]
    fn partial_head_keeps_whole_lines() {
        let p = b"GET /x HTTP/1.1\r\nHost: a.example\r\nUser-Agent: Moz";
        let r = parse_request(p).unwrap();
        assert!(!r.complete);
        assert_eq!(r.host, Some(&b"a.example"[..]));
        assert_eq!(r.user_agent, None);
    }

    #[test]
    fn not_requests() {
        assert!(parse_request(b"HTTP/1.1 200 OK\r\n\r\n").is_none());
        assert!(parse_request(b"\x16\x03\x01").is_none());
        assert!(parse_request(b"GET \x00\x01 HTTP/1.1\r\n\r\n").is_none());
    }
}
