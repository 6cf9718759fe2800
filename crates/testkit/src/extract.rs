//! Running `phonehome-extract` on one capture and reading back its `flows.csv` and `dns.csv`.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::Command;

use crate::TempDir;

/// What the extractor wrote for one capture (the parts the differential tests compare).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extract {
    /// `flows.csv`.
    pub flows: Vec<FlowRow>,
    /// `dns.csv`.
    pub dns: Vec<DnsRow>,
}

/// The columns of one `flows.csv` row that the differential tests compare (DESIGN.md, "Output
/// files"; the names there are the contract).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRow {
    /// `id`: the flow's id within the capture.
    pub id: u64,
    /// `proto`: `tcp`, `udp`, `icmp`, … as written.
    pub proto: String,
    /// `client_ip` and `client_port` (port 0 where the column is empty).
    pub client: SocketAddr,
    /// `server_ip` and `server_port` (port 0 where the column is empty).
    pub server: SocketAddr,
    /// `vlan`: the outer VLAN id, if any.
    pub vlan: Option<u16>,
    /// `packets_up`: client to server.
    pub packets_up: u64,
    /// `packets_down`: server to client.
    pub packets_down: u64,
    /// `app`: the application protocol recognised (may be empty).
    pub app: String,
    /// `hostname` (may be empty).
    pub hostname: String,
    /// `name_source`: `sni`, `quic`, `http`, `dns`, `dns-any`, `dns-query` or `none`.
    pub name_source: String,
}

/// The columns of one `dns.csv` row (one DNS, mDNS or LLMNR message) that tests compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRow {
    /// `client_ip`: the querier.
    pub client: IpAddr,
    /// `server_ip`: the resolver.
    pub server: IpAddr,
    /// `qname`: the first question's name.
    pub qname: String,
}

/// Runs `bin --quiet -o <temporary dir> capture` and reads back what it wrote. Exit codes 0
/// and 1 both mean the output was written; anything else (2 = error) is an `Err` carrying the
/// exit status and stderr.
pub fn run_extract(bin: &Path, capture: &Path) -> Result<Extract, String> {
    let dir = TempDir::new("extract");
    let out = Command::new(bin)
        .arg("--quiet")
        .arg("-o")
        .arg(dir.path())
        .arg(capture)
        .output()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))?;
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(format!(
            "{}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(Extract {
        flows: read_flows_csv(&dir.path().join("flows.csv"))?,
        dns: read_dns_csv(&dir.path().join("dns.csv"))?,
    })
}

/// Reads a `flows.csv` by its header names.
pub fn read_flows_csv(path: &Path) -> Result<Vec<FlowRow>, String> {
    read_csv(path, |row| {
        Ok(FlowRow {
            id: number(row.cell("id")?)?,
            proto: row.cell("proto")?.to_string(),
            client: endpoint(row.cell("client_ip")?, row.cell("client_port")?)?,
            server: endpoint(row.cell("server_ip")?, row.cell("server_port")?)?,
            vlan: optional_number(row.cell("vlan")?)?,
            packets_up: number(row.cell("packets_up")?)?,
            packets_down: number(row.cell("packets_down")?)?,
            app: row.cell("app")?.to_string(),
            hostname: row.cell("hostname")?.to_string(),
            name_source: row.cell("name_source")?.to_string(),
        })
    })
}

/// Reads a `dns.csv` by its header names.
pub fn read_dns_csv(path: &Path) -> Result<Vec<DnsRow>, String> {
    read_csv(path, |row| {
        Ok(DnsRow {
            client: address(row.cell("client_ip")?)?,
            server: address(row.cell("server_ip")?)?,
            qname: row.cell("qname")?.to_string(),
        })
    })
}

/// One record with its file's header, to look cells up by column name.
struct Row<'a> {
    headers: &'a csv::StringRecord,
    record: &'a csv::StringRecord,
}

impl Row<'_> {
    /// The cell under column `name`.
    fn cell(&self, name: &str) -> Result<&str, String> {
        self.headers
            .iter()
            .position(|h| h == name)
            .and_then(|i| self.record.get(i))
            .ok_or_else(|| format!("no column `{name}`"))
    }
}

/// Every record of the CSV file at `path`, converted by `convert`.
fn read_csv<T>(
    path: &Path,
    convert: impl Fn(&Row<'_>) -> Result<T, String>,
) -> Result<Vec<T>, String> {
    let at = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut reader = csv::Reader::from_path(path).map_err(|e| at(&e))?;
    let headers = reader.headers().map_err(|e| at(&e))?.clone();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| at(&e))?;
        let row = Row {
            headers: &headers,
            record: &record,
        };
        rows.push(convert(&row).map_err(|e| at(&e))?);
    }
    Ok(rows)
}

/// An address cell.
fn address(ip: &str) -> Result<IpAddr, String> {
    ip.parse().map_err(|e| format!("address {ip:?}: {e}"))
}

/// An address and a port cell; an empty port (ICMP and other protocols) reads as 0.
fn endpoint(ip: &str, port: &str) -> Result<SocketAddr, String> {
    Ok(SocketAddr::new(
        address(ip)?,
        optional_number(port)?.unwrap_or(0),
    ))
}

/// A number cell.
fn number<T: std::str::FromStr>(s: &str) -> Result<T, String> {
    s.trim().parse().map_err(|_| format!("not a number: {s:?}"))
}

/// A number cell that may be empty.
fn optional_number<T: std::str::FromStr>(s: &str) -> Result<Option<T>, String> {
    match s.trim() {
        "" => Ok(None),
        v => number(v).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_flows_by_header_name() {
        let dir = TempDir::new("flows-csv");
        let path = dir.path().join("flows.csv");
        std::fs::write(
            &path,
            "id,start,end,rel_s,duration_s,proto,client_ip,client_port,server_ip,server_port,vlan,\
             conn_state,history,packets_up,packets_down,ip_bytes_up,ip_bytes_down,\
             payload_bytes_up,payload_bytes_down,app,hostname,name_source,registrable_domain,\
             owner,category,role\n\
             1,t0,t1,0,1,tcp,10.0.0.1,5000,2001:db8::1,443,,SF,ShADadFf,3,4,1,1,1,1,tls,\
             \"a.example\",sni,example,,third-party,\n\
             2,t0,t1,0,1,icmp,10.0.0.1,,10.0.0.2,,7,OTH,,1,0,1,0,1,0,,,none,,,,\n",
        )
        .unwrap();
        let rows = read_flows_csv(&path).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].server, "[2001:db8::1]:443".parse().unwrap());
        assert_eq!((rows[0].packets_up, rows[0].packets_down), (3, 4));
        assert_eq!(rows[0].hostname, "a.example");
        assert_eq!(rows[1].client.port(), 0);
        assert_eq!(rows[1].vlan, Some(7));
    }

    #[test]
    fn reads_dns_and_names_a_missing_column() {
        let dir = TempDir::new("dns-csv");
        let path = dir.path().join("dns.csv");
        std::fs::write(
            &path,
            "ts,rel_s,client_ip,server_ip,id,qname,qtype\n\
             t,0,192.168.1.2,192.168.1.1,7,www.example.com,A\n",
        )
        .unwrap();
        let rows = read_dns_csv(&path).unwrap();
        assert_eq!(rows[0].qname, "www.example.com");
        assert_eq!(rows[0].server, "192.168.1.1".parse::<IpAddr>().unwrap());
        let err = read_flows_csv(&path).unwrap_err();
        assert!(err.contains("no column `proto`"), "{err}");
    }
}
