//! Writing tables as CSV (RFC 4180, spreadsheet-safe), JSON (one array) or JSON Lines.

use std::borrow::Cow;
use std::io::Write;
use std::sync::mpsc;

use serde_json::{Map, Value};

use phonehome_decode::text::IpText;

use crate::sanitize::csv_cell;
#[cfg(test)]
use crate::tables::RowSource;
use crate::tables::{Cell, Table};
use crate::ReportError;

/// Machine output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// File extension: `csv`, `json`, `jsonl`.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
            Format::Jsonl => "jsonl",
        }
    }
}

/// How to write.
#[derive(Debug, Clone, Copy)]
pub struct WriteOptions {
    /// Output format.
    pub format: Format,
    /// Leave cells that start like formulas as they are (`--raw-csv`).
    pub raw: bool,
}

/// Seconds with microsecond precision, as text.
pub fn secs_text(s: f64) -> String {
    let mut buf = [0u8; 32];
    match secs_fast(s, &mut buf) {
        Some(t) => t.to_string(),
        None => format!("{s:.6}"),
    }
}

/// `format!("{s:.6}")` without the float formatter, for the values where rounding to the
/// microsecond cannot be in doubt: not negative, below 2^50 microseconds (35 years), and not
/// within twice the product's rounding error of a half microsecond. `None` for the others.
fn secs_fast(s: f64, buf: &mut [u8; 32]) -> Option<&str> {
    const LIMIT: f64 = (1u64 << 50) as f64;
    if !(s.is_sign_positive() && s.is_finite()) {
        return None;
    }
    let m = s * 1e6;
    if m >= LIMIT {
        return None;
    }
    // The product is within half an ulp of the exact s x 10^6; an ulp below 2^50 is at most
    // 1/8, so one more than the product's ulp of margin keeps both on the same side of .5.
    let floor = m.floor();
    let ulp = if m < 1.0 {
        f64::EPSILON
    } else {
        m * f64::EPSILON
    };
    if ((m - floor) - 0.5).abs() <= 2.0 * ulp {
        return None;
    }
    let micros = m.round() as u64;
    let mut ib = itoa::Buffer::new();
    let whole = ib.format(micros / 1_000_000).as_bytes();
    let n = whole.len();
    buf[..n].copy_from_slice(whole);
    buf[n] = b'.';
    let mut frac = micros % 1_000_000;
    for i in (n + 1..n + 7).rev() {
        buf[i] = b'0' + (frac % 10) as u8;
        frac /= 10;
    }
    std::str::from_utf8(&buf[..n + 7]).ok()
}

/// Writes one cell as a CSV field, without building a string for it when it is text, a
/// count, a time, an address or seconds.
fn write_cell<W: Write>(w: &mut csv::Writer<W>, c: &Cell, raw: bool) -> csv::Result<()> {
    match c {
        Cell::Text(t) if raw => w.write_field(t),
        Cell::Text(t) => w.write_field(csv_cell(t).as_bytes()),
        Cell::Static(t) if raw => w.write_field(t),
        Cell::Static(t) => w.write_field(csv_cell(t).as_bytes()),
        Cell::Time(t) => w.write_field(t.rfc3339_bytes()),
        Cell::Ip(a) => w.write_field(IpText::new(*a).as_str()),
        Cell::Int(n) => w.write_field(itoa::Buffer::new().format(*n)),
        Cell::Secs(s) => {
            let mut buf = [0u8; 32];
            match secs_fast(*s, &mut buf) {
                Some(t) => w.write_field(t),
                None => w.write_field(format!("{s:.6}")),
            }
        }
        Cell::Empty => w.write_field(""),
    }
}

fn cell_text(c: &Cell, raw: bool) -> String {
    match c {
        Cell::Text(t) if raw => t.clone(),
        Cell::Text(t) => csv_cell(t).into_owned(),
        Cell::Static(t) if raw => (*t).to_string(),
        Cell::Static(t) => csv_cell(t).into_owned(),
        Cell::Time(t) => t.to_string(),
        Cell::Ip(a) => IpText::new(*a).as_str().to_string(),
        Cell::Int(n) => n.to_string(),
        Cell::Secs(s) => secs_text(*s),
        Cell::Empty => String::new(),
    }
}

fn cell_json(c: &Cell) -> Value {
    match c {
        Cell::Text(t) => Value::String(t.clone()),
        Cell::Static(t) => Value::String((*t).to_string()),
        Cell::Time(t) => Value::String(t.to_string()),
        Cell::Ip(a) => Value::String(IpText::new(*a).as_str().to_string()),
        Cell::Int(n) => Value::from(*n),
        Cell::Secs(s) => {
            serde_json::Number::from_f64((s * 1e6).round() / 1e6).map_or(Value::Null, Value::Number)
        }
        Cell::Empty => Value::Null,
    }
}

/// A table's rows as text keyed by column name, cells as written with `--raw-csv` (what reading
/// the CSV back gives for any cell that needed no neutralising).
pub fn text_rows(t: &Table<'_>) -> Vec<std::collections::BTreeMap<String, String>> {
    t.rows()
        .map(|row| {
            t.columns
                .iter()
                .zip(row.iter())
                .map(|(k, c)| ((*k).to_string(), cell_text(c, true)))
                .collect()
        })
        .collect()
}

/// One row to write: the capture it belongs to (when written) and its cells.
type Row<'a> = (Option<&'a str>, Cow<'a, [Cell]>);

/// Rows formatted together; a table with more has them formatted on other threads.
const CHUNK_ROWS: usize = 1024;

/// Threads formatting a large table's chunks (formatting costs more than making the rows, so
/// two keep the thread making them busy).
const FORMATTERS: usize = 2;

/// The CSV text of `rows` (no header).
fn csv_chunk(rows: &[Row<'_>], raw: bool) -> Result<Vec<u8>, ReportError> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::with_capacity(rows.len() * 128));
    for (capture, row) in rows {
        if let Some(c) = capture {
            let c = if raw { Cow::Borrowed(*c) } else { csv_cell(c) };
            w.write_field(c.as_bytes())?;
        }
        for c in row.iter() {
            write_cell(&mut w, c, raw)?;
        }
        w.write_record(None::<&[u8]>)?;
    }
    w.into_inner().map_err(|e| ReportError::Io(e.into_error()))
}

/// Writes `rows` as CSV. A large table's rows are formatted in chunks on [`FORMATTERS`] other
/// threads while this one makes the next chunks' rows (reading them back from disk, naming,
/// labelling); the chunks are written in order, so the bytes are those of one thread.
fn write_csv_rows<'a>(
    out: &mut dyn Write,
    mut rows: impl Iterator<Item = Row<'a>>,
    raw: bool,
) -> Result<(), ReportError> {
    let mut next = || -> Vec<Row<'a>> { rows.by_ref().take(CHUNK_ROWS).collect() };
    let first = next();
    if first.len() < CHUNK_ROWS {
        out.write_all(&csv_chunk(&first, raw)?)?;
        return Ok(());
    }
    std::thread::scope(|scope| {
        // Chunk j goes to formatter j % FORMATTERS and comes back from it in order. Chunks
        // waiting to be formatted are bounded; formatted ones are written as soon as they are
        // next in line, so at most a few are ever held.
        let mut todo = Vec::new();
        let mut done = Vec::new();
        for _ in 0..FORMATTERS {
            let (tx, rx) = mpsc::sync_channel::<Vec<Row<'a>>>(1);
            let (done_tx, done_rx) = mpsc::channel::<Result<Vec<u8>, ReportError>>();
            scope.spawn(move || {
                for chunk in rx {
                    if done_tx.send(csv_chunk(&chunk, raw)).is_err() {
                        break;
                    }
                }
            });
            todo.push(tx);
            done.push(done_rx);
        }
        let (mut sent, mut written) = (0usize, 0usize);
        let mut chunk = first;
        while !chunk.is_empty() {
            if todo[sent % FORMATTERS].send(chunk).is_err() {
                break;
            }
            sent += 1;
            chunk = next();
            while written < sent {
                match done[written % FORMATTERS].try_recv() {
                    Ok(text) => out.write_all(&text?)?,
                    Err(_) => break,
                }
                written += 1;
            }
        }
        drop(todo);
        while written < sent {
            match done[written % FORMATTERS].recv() {
                Ok(text) => out.write_all(&text?)?,
                // A formatting thread panicked: the scope passes the panic on.
                Err(_) => break,
            }
            written += 1;
        }
        Ok(())
    })
}

/// Writes tables that share columns (one per capture, or one alone) to `out`. With `capture`
/// names given, a first `capture` column carries each table's capture name.
pub fn write_tables(
    out: &mut dyn Write,
    parts: &[(Option<&str>, &Table<'_>)],
    opts: WriteOptions,
) -> Result<(), ReportError> {
    let Some((first_capture, first)) = parts.first() else {
        return Ok(());
    };
    let with_capture = first_capture.is_some();
    match opts.format {
        Format::Csv => {
            let mut w = csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(&mut *out);
            let mut header: Vec<&str> = Vec::new();
            if with_capture {
                header.push("capture");
            }
            header.extend(first.columns.iter().copied());
            w.write_record(&header)?;
            w.flush()?;
            drop(w);
            let rows = parts
                .iter()
                .flat_map(|(capture, t)| t.rows().map(move |row| (*capture, row)));
            write_csv_rows(out, rows, opts.raw)?;
            out.flush()?;
        }
        Format::Json | Format::Jsonl => {
            let objects = parts.iter().flat_map(|(capture, t)| {
                t.rows().map(move |row| {
                    let mut m = Map::new();
                    if let Some(c) = capture {
                        m.insert("capture".into(), Value::String(c.to_string()));
                    }
                    for (k, c) in t.columns.iter().zip(row.iter()) {
                        m.insert((*k).into(), cell_json(c));
                    }
                    Value::Object(m)
                })
            });
            if opts.format == Format::Json {
                // A pretty array written one object at a time (what serde_json's pretty
                // printer gives for the whole array, without holding it).
                let mut empty = true;
                for o in objects {
                    out.write_all(if empty { b"[\n" } else { b",\n" })?;
                    empty = false;
                    let text = serde_json::to_string_pretty(&o)?;
                    for (i, line) in text.lines().enumerate() {
                        if i > 0 {
                            out.write_all(b"\n")?;
                        }
                        out.write_all(b"  ")?;
                        out.write_all(line.as_bytes())?;
                    }
                }
                out.write_all(if empty { b"[]\n" } else { b"\n]\n" })?;
            } else {
                for o in objects {
                    serde_json::to_writer(&mut *out, &o)?;
                    out.write_all(b"\n")?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table of `n` rows: numbers, addresses, and text that needs quoting or neutralising.
    fn big(n: u64) -> Table<'static> {
        let rows = (0..n)
            .map(|i| {
                vec![
                    Cell::Int(i),
                    Cell::Ip(std::net::IpAddr::from([10, 0, (i >> 8) as u8, i as u8])),
                    Cell::Text(match i % 4 {
                        0 => format!("host{i}.example"),
                        1 => format!("=cmd|{i}"),
                        2 => format!("a, \"b\" {i}"),
                        _ => String::new(),
                    }),
                    Cell::Secs(i as f64 / 7.0),
                ]
            })
            .collect::<Vec<_>>();
        Table {
            name: "t",
            columns: vec!["n", "ip", "text", "s"],
            rows: RowSource::Held(rows),
        }
    }

    /// A table long enough to be formatted in chunks on a second thread is written as one
    /// thread writes it, alone and as several captures' tables in one file.
    #[test]
    fn chunked_rows_are_written_as_one_thread_writes_them() {
        let (a, b) = (big(3 * CHUNK_ROWS as u64 + 17), big(CHUNK_ROWS as u64 - 1));
        for raw in [false, true] {
            let opts = WriteOptions {
                format: Format::Csv,
                raw,
            };
            for parts in [
                vec![(None, &a)],
                vec![(Some("one"), &a), (Some("=two"), &b)],
            ] {
                let mut got = Vec::new();
                write_tables(&mut got, &parts, opts).unwrap();
                let rows: Vec<Row<'_>> = parts
                    .iter()
                    .flat_map(|(c, t)| t.rows().map(move |r| (*c, r)))
                    .collect();
                let header = if parts[0].0.is_some() {
                    "capture,n,ip,text,s\r\n"
                } else {
                    "n,ip,text,s\r\n"
                };
                let mut want = header.as_bytes().to_vec();
                want.extend(csv_chunk(&rows, raw).unwrap());
                assert!(got == want, "raw {raw}, {} parts", parts.len());
                let lines = got.split(|&c| c == b'\n').count() - 1;
                assert_eq!(lines, rows.len() + 1);
            }
        }
    }

    #[test]
    fn seconds_are_written_as_the_float_formatter_writes_them() {
        let mut values = vec![
            0.0,
            -0.0,
            -1.5,
            1e-7,
            0.0000005,
            0.0078125, // exactly 7812.5 microseconds: a tie, left to the formatter
            0.9999995,
            0.9999996,
            1.0,
            59.999_999_5,
            2_717_754.445,
            1.0e9 + 0.123_456_5,
            4_294_967_295.999_999,
            1e12,
            f64::NAN,
            f64::INFINITY,
        ];
        // A fixed pseudo-random walk over magnitudes and fractions.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let exp = (x % 40) as i32 - 20;
            let mant = (x >> 11) as f64 / (1u64 << 53) as f64;
            values.push(mant * 10f64.powi(exp));
            // Whole microseconds and half microseconds, as differences of timestamps give.
            values.push((x % 10_000_000_000) as f64 / 1e6);
            values.push(((x % 10_000_000_000) as f64 + 0.5) / 1e6);
        }
        for v in values {
            assert_eq!(secs_text(v), format!("{v:.6}"), "{v:e}");
        }
    }

    fn table() -> Table<'static> {
        Table {
            name: "t",
            columns: vec!["a", "b", "c"],
            rows: RowSource::Held(vec![vec![
                Cell::Text("=HYPERLINK(\"x\")".into()),
                Cell::Int(3),
                Cell::Secs(1.5),
            ]]),
        }
    }

    fn write(format: Format, raw: bool, capture: Option<&str>) -> String {
        let t = table();
        let mut out = Vec::new();
        write_tables(&mut out, &[(capture, &t)], WriteOptions { format, raw }).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn csv_neutralises_unless_raw() {
        assert_eq!(
            write(Format::Csv, false, None),
            "a,b,c\r\n\"'=HYPERLINK(\"\"x\"\")\",3,1.500000\r\n"
        );
        assert!(write(Format::Csv, true, None).contains("\"=HYPERLINK"));
        assert!(
            write(Format::Csv, false, Some("-x.pcap")).starts_with("capture,a,b,c\r\n'-x.pcap,")
        );
    }

    #[test]
    fn json_keeps_types() {
        let j = write(Format::Jsonl, false, Some("cap"));
        assert_eq!(
            j,
            "{\"capture\":\"cap\",\"a\":\"=HYPERLINK(\\\"x\\\")\",\"b\":3,\"c\":1.5}\n"
        );
        let v: Value = serde_json::from_str(&write(Format::Json, false, None)).unwrap();
        assert_eq!(v[0]["b"], 3);
    }
}
