//! An SMTP sink for the mail benchmark (`benches/mail/run.sh`): accepts every message and only
//! counts them.
//!
//! ```text
//! cargo run --release --example smtp_sink -- PORT [STATS_FILE]
//! ```
//!
//! Listens on 127.0.0.1:PORT (0: a free port) and prints `listening on 127.0.0.1:PORT` once bound.
//! Any number of connections at once, on one thread (a current-thread tokio runtime), so that the
//! sink takes at most one of the machine's cores. The dialogue is the subset of RFC 5321 a
//! submitting client needs: greeting `220`; `EHLO` (`250-PIPELINING`, `250-8BITMIME`,
//! `250 SMTPUTF8`) or `HELO`; `MAIL FROM`, `RCPT TO` (any address), `DATA` (`354`, then the message
//! up to `CRLF.CRLF`, dot-unstuffed, answered `250`); `RSET`, `NOOP`, `QUIT`; anything else `502`.
//! Pipelined commands are answered in order, and replies are flushed only once no more input is
//! buffered. No TLS, no AUTH, no size limit beyond [`MAX_MESSAGE`].
//!
//! Counts: messages accepted, their bytes (after unstuffing), connections, and distinct recipients
//! (a recipient mailed twice shows up as `messages` > `recipients`). With STATS_FILE they are
//! written there every second (`key value` lines, replaced atomically); on SIGTERM or ctrl-c they
//! are written once more and printed, and the sink exits.

use std::cell::RefCell;
use std::collections::HashSet;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{SignalKind, signal};

/// A message over this many bytes is read to its end and refused.
const MAX_MESSAGE: usize = 32 * 1024 * 1024;
/// A command line over this many bytes closes the connection.
const MAX_LINE: usize = 64 * 1024;

#[derive(Default)]
struct Stats {
    messages: u64,
    bytes: u64,
    connections: u64,
    recipients: HashSet<String>,
}

impl Stats {
    fn text(&self) -> String {
        format!(
            "messages {}\nbytes {}\nconnections {}\nrecipients {}\n",
            self.messages,
            self.bytes,
            self.connections,
            self.recipients.len()
        )
    }
}

fn write_stats(path: &Option<PathBuf>, stats: &RefCell<Stats>) {
    if let Some(path) = path {
        let tmp = path.with_extension("tmp");
        let text = stats.borrow().text();
        if std::fs::write(&tmp, text).is_ok() {
            let _ = std::fs::rename(&tmp, path);
        }
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (port, file) = match args.as_slice() {
        [_, p] => (p, None),
        [_, p, f] => (p, Some(PathBuf::from(f))),
        _ => return Err("usage: smtp_sink PORT [STATS_FILE]".into()),
    };
    let port: u16 = port.parse().map_err(|e| format!("PORT: {e}"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let local = tokio::task::LocalSet::new();
    local.block_on(&runtime, serve(port, file))
}

async fn serve(port: u16, file: Option<PathBuf>) -> Result<(), Box<dyn std::error::Error>> {
    let listener = TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    let stats = Rc::new(RefCell::new(Stats::default()));
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    stats.borrow_mut().connections += 1;
                    let stats = Rc::clone(&stats);
                    tokio::task::spawn_local(async move {
                        // A client that goes away mid-dialogue is no concern of the sink's.
                        let _ = session(stream, &stats).await;
                    });
                }
                Err(e) => eprintln!("smtp_sink: accept: {e}"),
            },
            _ = tick.tick() => write_stats(&file, &stats),
            _ = term.recv() => break,
            _ = int.recv() => break,
        }
    }
    write_stats(&file, &stats);
    print!("{}", stats.borrow().text());
    Ok(())
}

/// One connection, until QUIT or the client closes.
async fn session(stream: TcpStream, stats: &RefCell<Stats>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut reader = BufReader::with_capacity(64 * 1024, read);
    let mut out: Vec<u8> = b"220 localhost ESMTP sink\r\n".to_vec();
    let mut line = Vec::with_capacity(512);
    let mut greeted = false;
    let mut mail = false;
    let mut rcpts: Vec<String> = Vec::new();
    loop {
        // Replies go out once the client has nothing more pipelined.
        if !out.is_empty() && reader.buffer().is_empty() {
            write.write_all(&out).await?;
            out.clear();
        }
        line.clear();
        let length = read_line(&mut reader, &mut line).await?;
        if length == 0 {
            return Ok(());
        }
        if length > MAX_LINE {
            write.write_all(b"500 5.5.6 line too long\r\n").await?;
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let verb = text.split(' ').next().unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" => {
                greeted = true;
                mail = false;
                rcpts.clear();
                out.extend_from_slice(
                    b"250-localhost\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
                );
            }
            "HELO" => {
                greeted = true;
                mail = false;
                rcpts.clear();
                out.extend_from_slice(b"250 localhost\r\n");
            }
            "MAIL" if !greeted => out.extend_from_slice(b"503 5.5.1 EHLO first\r\n"),
            "MAIL" if mail => out.extend_from_slice(b"503 5.5.1 nested MAIL\r\n"),
            "MAIL" => {
                mail = true;
                out.extend_from_slice(b"250 2.1.0 Ok\r\n");
            }
            "RCPT" if !mail => out.extend_from_slice(b"503 5.5.1 MAIL first\r\n"),
            "RCPT" => {
                let addr = text
                    .split_once('<')
                    .and_then(|(_, r)| r.split_once('>'))
                    .map(|(a, _)| a.to_ascii_lowercase())
                    .unwrap_or_default();
                rcpts.push(addr);
                out.extend_from_slice(b"250 2.1.5 Ok\r\n");
            }
            "DATA" if rcpts.is_empty() => {
                out.extend_from_slice(b"554 5.5.1 no valid recipients\r\n")
            }
            "DATA" => {
                write.write_all(&out).await?;
                out.clear();
                write
                    .write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let Some(bytes) = read_data(&mut reader, &mut line).await? else {
                    return Ok(());
                };
                if bytes > MAX_MESSAGE {
                    out.extend_from_slice(b"552 5.3.4 message too big\r\n");
                } else {
                    let mut s = stats.borrow_mut();
                    s.messages += 1;
                    s.bytes += bytes as u64;
                    for r in rcpts.drain(..) {
                        s.recipients.insert(r);
                    }
                    let id = s.messages;
                    out.extend_from_slice(format!("250 2.0.0 Ok: queued as {id}\r\n").as_bytes());
                }
                mail = false;
                rcpts.clear();
            }
            "RSET" => {
                mail = false;
                rcpts.clear();
                out.extend_from_slice(b"250 2.0.0 Ok\r\n");
            }
            "NOOP" => out.extend_from_slice(b"250 2.0.0 Ok\r\n"),
            "QUIT" => {
                out.extend_from_slice(b"221 2.0.0 Bye\r\n");
                write.write_all(&out).await?;
                return Ok(());
            }
            _ => out.extend_from_slice(b"502 5.5.2 command not recognized\r\n"),
        }
    }
}

/// One line, CRLF included, kept up to a little over [`MAX_LINE`]; returns its whole length (0
/// at the end of input).
async fn read_line(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    line: &mut Vec<u8>,
) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let buf = reader.fill_buf().await?;
        if buf.is_empty() {
            return Ok(total);
        }
        let (take, done) = match memchr(buf) {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if line.len() <= MAX_LINE {
            line.extend_from_slice(&buf[..take]);
        }
        reader.consume(take);
        total += take;
        if done {
            return Ok(total);
        }
    }
}

fn memchr(buf: &[u8]) -> Option<usize> {
    buf.iter().position(|&b| b == b'\n')
}

/// Message data up to the `.` line; the byte count after dot-unstuffing (line ends included), or
/// `None` when the client went away first.
async fn read_data(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    line: &mut Vec<u8>,
) -> std::io::Result<Option<usize>> {
    let mut bytes = 0usize;
    loop {
        line.clear();
        let length = read_line(reader, line).await?;
        if length == 0 {
            return Ok(None);
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(Some(bytes));
        }
        // A leading dot was doubled by the client (RFC 5321 4.5.2).
        bytes += length - usize::from(line.first() == Some(&b'.'));
    }
}
