//! A real SMTP server on 127.0.0.1 that integration tests start in-process, to test the email
//! digests that portalfeed sends with `lettre` (plain SMTP, no TLS: `smtp://127.0.0.1:PORT`).
//!
//! It models the subset of RFC 5321 that a submitting client needs, and nothing more: no relay,
//! no queue, no TLS, no AUTH. Every accepted message is kept in memory as a [`Received`] and can be
//! read back with [`SmtpServer::received`] or awaited with [`SmtpServer::wait_for`]. How the server
//! answers recipients and message data is set by a [`Mode`], which a test may change at any time
//! while clients are connected (it is read at the moment of each RCPT and each end of DATA).
//!
//! The dialogue:
//! - greeting `220 localhost ESMTP test`;
//! - `EHLO` answers `250-localhost`, `250-8BITMIME`, `250-SMTPUTF8`, `250 PIPELINING`; `HELO`
//!   answers `250 localhost`; either one starts afresh (no transaction open) and one of them is
//!   needed before `MAIL` (`503` otherwise);
//! - `MAIL FROM:<addr>` accepts the parameters `SIZE=n` (over [`MAX_MESSAGE_BYTES`]: `552`),
//!   `BODY=7BIT`/`BODY=8BITMIME` and `SMTPUTF8`; any other parameter is `555`; the null sender
//!   `<>` is allowed; a second `MAIL` inside a transaction is `503`;
//! - `RCPT TO:<addr>` is answered by the [`Mode`]; only accepted recipients end up in
//!   [`Received::to`]; at most [`MAX_RECIPIENTS`] per message (`452` beyond);
//! - `DATA` (`503` without `MAIL`, `554` without an accepted recipient) answers `354`, reads up to
//!   the `CRLF.CRLF` terminator, removes dot-stuffing and answers `250 2.0.0 Ok: queued as ID`
//!   (or the [`Mode::RejectData`] reply); the message is stored *before* the `250` is written, so
//!   once a client's send returned, [`SmtpServer::received`] already holds it;
//! - `RSET`, `NOOP` (`250`), `QUIT` (`221`, then the server closes); anything else is `502`.
//!
//! Several messages may go over one connection; pipelined commands are answered in order.
//! Limits keep a misbehaving client from hurting the test process: a message whose data is over
//! [`MAX_MESSAGE_BYTES`] is read to its end, discarded and answered `552`; a command line over
//! [`MAX_LINE_BYTES`] is answered `500`; a connection idle for [`IDLE_TIMEOUT`] gets a `421` and is
//! closed. Bad input (binary, half lines, commands out of order, a client vanishing) ends in an
//! error reply or a closed connection, never in a panic.
//!
//! What lettre 0.11's client does against it (tests/smtp_harness.rs checks it):
//! - a pooled transport reuses a connection after a `NOOP` (no `RSET`, no new `EHLO`), but it
//!   hands a used connection back to its pool from a spawned task, so a second send right after
//!   the first, with no yielding await between, opens a second connection;
//! - any negative reply, even for one recipient among several, fails the whole send; lettre then
//!   sends `QUIT` and drops that connection, so nothing of that message is kept here;
//! - with the server down, the error is neither `is_transient()` nor `is_permanent()` and has no
//!   `status()`.
//!
//! Do not combine it with `#[tokio::test(start_paused = true)]`: with the clock paused, tokio
//! jumps to the next timer while the runtime waits on sockets, so the idle timeout would fire
//! at once.

#![allow(dead_code)]

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

/// Largest message (after dot-unstuffing) that is accepted: 10 MiB.
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;
/// Longest command line, CRLF included (RFC 5321 asks for at least 512).
pub const MAX_LINE_BYTES: usize = 4096;
/// Most recipients accepted for one message.
pub const MAX_RECIPIENTS: usize = 1000;
/// Most command lines kept for [`SmtpServer::commands`].
pub const MAX_LOGGED_COMMANDS: usize = 10_000;
/// A connection on which nothing arrives (or nothing can be written) for this long is closed.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// One message as the server accepted it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The reverse path from `MAIL FROM:<…>`, without the angle brackets (empty for `<>`).
    pub from: String,
    /// The accepted recipients from `RCPT TO:<…>`, in order, without the angle brackets.
    pub to: Vec<String>,
    /// The raw message as sent after DATA, dot-unstuffed, without the final "." line (so it ends
    /// with the CRLF of its last line).
    pub data: Vec<u8>,
    /// Which TCP connection carried it: 1 for the first connection the server accepted, 2 for
    /// the next, and so on (the same numbering as [`SmtpServer::connections`]).
    pub connection: u64,
}

impl Received {
    /// The message as text (lossy), for assertions.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.data).into_owned()
    }
}

/// How the server answers; changeable while running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Every recipient and every message accepted.
    Accept,
    /// Every RCPT TO answered with this code and text, e.g. (450, "4.2.1 mailbox busy") or
    /// (550, "5.1.1 no such user").
    RejectRcpt(u16, String),
    /// DATA's final reply (after the message) with this code and text; the message is not kept.
    RejectData(u16, String),
    /// RCPT of these addresses (compared ignoring ASCII case) rejected with the code and text,
    /// others accepted.
    RejectRecipients(Vec<String>, u16, String),
}

/// An SMTP server on 127.0.0.1, serving until [`SmtpServer::stop`] or until it is dropped.
pub struct SmtpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

struct Shared {
    state: Mutex<State>,
    connections: AtomicU64,
    queue_ids: AtomicU64,
    /// How many messages have been received, for [`SmtpServer::wait_for`].
    count: watch::Sender<usize>,
}

struct State {
    mode: Mode,
    received: Vec<Received>,
    commands: Vec<(u64, String)>,
}

impl Shared {
    /// The state, even if a test thread panicked while holding the lock.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl SmtpServer {
    /// Starts a server on a free port of 127.0.0.1.
    pub async fn start() -> SmtpServer {
        SmtpServer::start_on(0).await
    }

    /// Starts a server on the given port of 127.0.0.1 (0: any free port), for example to bring
    /// back a server that was stopped. Retries for a few seconds while the port is still taken;
    /// panics if it cannot be had.
    pub async fn start_on(port: u16) -> SmtpServer {
        let listener = bind(port).await;
        let addr = listener
            .local_addr()
            .expect("SMTP test server: local address of the listener");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                mode: Mode::Accept,
                received: Vec::new(),
                commands: Vec::new(),
            }),
            connections: AtomicU64::new(0),
            queue_ids: AtomicU64::new(0),
            count: watch::Sender::new(0),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, Arc::clone(&shared), shutdown_rx));
        SmtpServer {
            addr,
            shared,
            shutdown,
            task: Some(task),
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `smtp://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port())
    }

    /// Changes how the server answers from the next RCPT or end of DATA on, on every connection.
    pub fn set_mode(&self, mode: Mode) {
        self.shared.lock().mode = mode;
    }

    /// Every message accepted so far, in the order they were accepted.
    pub fn received(&self) -> Vec<Received> {
        self.shared.lock().received.clone()
    }

    /// Every command line received so far (not message data), with the connection it came on,
    /// in arrival order: to check what a client sent, e.g. `(1, "NOOP")`. Keeps the first
    /// [`MAX_LOGGED_COMMANDS`].
    pub fn commands(&self) -> Vec<(u64, String)> {
        self.shared.lock().commands.clone()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> u64 {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// Stops listening and closes every connection; when it returns, the port is free.
    pub async fn stop(mut self) {
        // An error only means the accept loop is already gone.
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Waits until at least `count` messages have arrived and returns all of them; panics with
    /// what did arrive after `timeout`.
    pub async fn wait_for(&self, count: usize, timeout: Duration) -> Vec<Received> {
        let mut arrived = self.shared.count.subscribe();
        let waited = tokio::time::timeout(timeout, arrived.wait_for(|n| *n >= count)).await;
        if !matches!(waited, Ok(Ok(_))) {
            let received = self.received();
            let summary: Vec<String> = received
                .iter()
                .map(|r| {
                    format!(
                        "from <{}> to {:?} ({} bytes, connection {})",
                        r.from,
                        r.to,
                        r.data.len(),
                        r.connection
                    )
                })
                .collect();
            panic!(
                "SMTP test server on port {}: waited {timeout:?} for {count} message(s), {} arrived \
                 over {} connection(s): {summary:#?}",
                self.port(),
                received.len(),
                self.connections()
            );
        }
        self.received()
    }
}

impl fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpServer")
            .field("addr", &self.addr)
            .field("connections", &self.connections())
            .field("received", &self.shared.lock().received.len())
            .finish()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            // Aborting the accept loop drops its listener and its JoinSet, which aborts every
            // connection task.
            task.abort();
        }
    }
}

async fn bind(port: u16) -> TcpListener {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match try_bind(addr) {
            Ok(listener) => return listener,
            Err(err) if err.kind() == io::ErrorKind::AddrInUse && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(err) => panic!("SMTP test server: cannot listen on {addr}: {err}"),
        }
    }
}

fn try_bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = TcpSocket::new_v4()?;
    // Lets a restarted server take the port back while old connections sit in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(128)
}

async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            // A change (to true) or a dropped sender: stop either way.
            _ = shutdown.changed() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let id = shared.connections.fetch_add(1, Ordering::SeqCst) + 1;
                    sessions.spawn(serve(stream, id, Arc::clone(&shared)));
                }
                // Such as running out of file descriptors: wait a little rather than spin.
                Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
            },
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
    drop(listener);
    sessions.shutdown().await;
}

async fn serve(stream: TcpStream, id: u64, shared: Arc<Shared>) {
    let _ = stream.set_nodelay(true);
    let (reader, writer) = stream.into_split();
    let mut session = Session {
        reader: BufReader::new(reader),
        writer,
        connection: id,
        shared,
        greeted: false,
        from: None,
        to: Vec::new(),
    };
    match session.run().await {
        Err(err) if err.kind() == io::ErrorKind::TimedOut => {
            // Best effort, and briefly: the client may be the one not reading.
            let bye = session.reply("421 4.4.2 localhost Error: timeout exceeded");
            let _ = tokio::time::timeout(Duration::from_secs(1), bye).await;
        }
        // The client went away or sent something that ends the session: nothing to tell it.
        _ => {}
    }
    let _ = session.writer.shutdown().await;
}

/// One line as read: whether it was cut at the limit, and whether it really ended with CRLF.
struct Line {
    overflow: bool,
    crlf: bool,
}

/// How the data of a message ended.
enum Data {
    Message(Vec<u8>),
    TooBig,
}

struct Session {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
    connection: u64,
    shared: Arc<Shared>,
    greeted: bool,
    /// The open transaction's reverse path, once MAIL was accepted.
    from: Option<String>,
    to: Vec<String>,
}

impl Session {
    async fn run(&mut self) -> io::Result<()> {
        self.reply("220 localhost ESMTP test").await?;
        let mut buf = Vec::with_capacity(256);
        loop {
            let Some(line) = self.read_line(&mut buf, MAX_LINE_BYTES).await? else {
                return Ok(());
            };
            if line.overflow {
                self.reply("500 5.5.2 Error: line too long").await?;
                continue;
            }
            let text = String::from_utf8_lossy(&buf);
            let text = text.trim_end_matches(['\r', '\n']);
            {
                let mut state = self.shared.lock();
                if state.commands.len() < MAX_LOGGED_COMMANDS {
                    state.commands.push((self.connection, text.to_owned()));
                }
            }
            let (verb, args) = match text.split_once(' ') {
                Some((verb, args)) => (verb, args.trim()),
                None => (text, ""),
            };
            match verb.to_ascii_uppercase().as_str() {
                "EHLO" => {
                    if args.is_empty() {
                        self.reply("501 5.5.4 Syntax: EHLO hostname").await?;
                    } else {
                        self.reset();
                        self.greeted = true;
                        self.reply(
                            "250-localhost\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 PIPELINING",
                        )
                        .await?;
                    }
                }
                "HELO" => {
                    if args.is_empty() {
                        self.reply("501 5.5.4 Syntax: HELO hostname").await?;
                    } else {
                        self.reset();
                        self.greeted = true;
                        self.reply("250 localhost").await?;
                    }
                }
                "MAIL" => {
                    let reply = self.mail(args);
                    self.reply(&reply).await?;
                }
                "RCPT" => {
                    let reply = self.rcpt(args);
                    self.reply(&reply).await?;
                }
                "DATA" => self.data(args).await?,
                "RSET" => {
                    self.reset();
                    self.reply("250 2.0.0 Ok").await?;
                }
                "NOOP" => self.reply("250 2.0.0 Ok").await?,
                "QUIT" => {
                    self.reply("221 2.0.0 Bye").await?;
                    return Ok(());
                }
                "" => self.reply("500 5.5.2 Error: bad syntax").await?,
                _ => {
                    self.reply("502 5.5.2 Error: command not recognized")
                        .await?
                }
            }
        }
    }

    fn reset(&mut self) {
        self.from = None;
        self.to.clear();
    }

    /// `MAIL FROM:<addr> [params]`; returns the reply.
    fn mail(&mut self, args: &str) -> String {
        if !self.greeted {
            return "503 5.5.1 Error: send HELO/EHLO first".into();
        }
        if self.from.is_some() {
            return "503 5.5.1 Error: nested MAIL command".into();
        }
        let Some((address, params)) = strip_prefix_ignore_case(args, "FROM:").and_then(parse_path)
        else {
            return "501 5.5.4 Syntax: MAIL FROM:<address>".into();
        };
        for param in params.split_whitespace() {
            let (key, value) = match param.split_once('=') {
                Some((key, value)) => (key, Some(value)),
                None => (param, None),
            };
            match (key.to_ascii_uppercase().as_str(), value) {
                ("SIZE", Some(value)) => match value.parse::<u64>() {
                    Ok(size) if size > MAX_MESSAGE_BYTES as u64 => {
                        return "552 5.3.4 Error: message file too big".into();
                    }
                    Ok(_) => {}
                    Err(_) => return "501 5.5.4 Bad SIZE parameter".into(),
                },
                ("BODY", Some(value))
                    if value.eq_ignore_ascii_case("7BIT")
                        || value.eq_ignore_ascii_case("8BITMIME") => {}
                ("BODY", _) => return "501 5.5.4 Bad BODY parameter".into(),
                ("SMTPUTF8", None) => {}
                _ => return format!("555 5.5.4 Unsupported option: {}", printable(param)),
            }
        }
        self.from = Some(address.to_owned());
        "250 2.1.0 Ok".into()
    }

    /// `RCPT TO:<addr>`, answered per the mode; returns the reply.
    fn rcpt(&mut self, args: &str) -> String {
        if self.from.is_none() {
            return "503 5.5.1 Error: need MAIL command".into();
        }
        let Some((address, params)) = strip_prefix_ignore_case(args, "TO:").and_then(parse_path)
        else {
            return "501 5.5.4 Syntax: RCPT TO:<address>".into();
        };
        if address.is_empty() {
            return "501 5.1.3 Bad recipient address syntax".into();
        }
        if let Some(param) = params.split_whitespace().next() {
            return format!("555 5.5.4 Unsupported option: {}", printable(param));
        }
        if self.to.len() >= MAX_RECIPIENTS {
            return "452 4.5.3 Error: too many recipients".into();
        }
        let rejection = match &self.shared.lock().mode {
            Mode::RejectRcpt(code, text) => Some(reply_line(*code, text)),
            Mode::RejectRecipients(addresses, code, text)
                if addresses.iter().any(|a| a.eq_ignore_ascii_case(address)) =>
            {
                Some(reply_line(*code, text))
            }
            _ => None,
        };
        if let Some(rejection) = rejection {
            return rejection;
        }
        self.to.push(address.to_owned());
        "250 2.1.5 Ok".into()
    }

    /// `DATA`: the 354, the message, and the final reply.
    async fn data(&mut self, args: &str) -> io::Result<()> {
        if !args.is_empty() {
            return self.reply("501 5.5.4 Syntax: DATA").await;
        }
        let Some(from) = self.from.clone() else {
            return self.reply("503 5.5.1 Error: need MAIL command").await;
        };
        if self.to.is_empty() {
            return self.reply("554 5.5.1 Error: no valid recipients").await;
        }
        self.reply("354 End data with <CR><LF>.<CR><LF>").await?;
        let Some(data) = self.read_data().await? else {
            return Ok(());
        };
        let to = std::mem::take(&mut self.to);
        self.reset();
        let data = match data {
            Data::Message(data) => data,
            Data::TooBig => return self.reply("552 5.3.4 Error: message file too big").await,
        };
        let reply = {
            let mut state = self.shared.lock();
            match &state.mode {
                Mode::RejectData(code, text) => reply_line(*code, text),
                _ => {
                    let id = self.shared.queue_ids.fetch_add(1, Ordering::SeqCst) + 1;
                    state.received.push(Received {
                        from,
                        to,
                        data,
                        connection: self.connection,
                    });
                    self.shared.count.send_replace(state.received.len());
                    format!("250 2.0.0 Ok: queued as {id:08X}")
                }
            }
        };
        self.reply(&reply).await
    }

    /// Reads the message after `354` up to the `.` line, undoing dot-stuffing. `None`: the
    /// client went away before the end.
    async fn read_data(&mut self) -> io::Result<Option<Data>> {
        let mut data = Vec::new();
        let mut line = Vec::new();
        let mut too_big = false;
        // Only a "." that starts a line (after CRLF) is special; right after DATA it does.
        let mut line_start = true;
        loop {
            // Within the size limit the whole line is kept; past it only enough to spot ".\r\n".
            let limit = if too_big {
                8
            } else {
                MAX_MESSAGE_BYTES - data.len() + 3
            };
            let Some(read) = self.read_line(&mut line, limit).await? else {
                return Ok(None);
            };
            if line_start && !read.overflow && line == b".\r\n" {
                return Ok(Some(if too_big {
                    Data::TooBig
                } else {
                    Data::Message(data)
                }));
            }
            let content = match line.strip_prefix(b".") {
                Some(rest) if line_start => rest,
                _ => &line[..],
            };
            line_start = read.crlf;
            if too_big {
                continue;
            }
            if read.overflow || data.len() + content.len() > MAX_MESSAGE_BYTES {
                too_big = true;
                data = Vec::new();
            } else {
                data.extend_from_slice(content);
            }
        }
    }

    /// Reads one line, LF included, keeping at most `limit` bytes of it in `buf` (the rest is
    /// read and dropped). `None` at end of input (a last line without LF is dropped too).
    async fn read_line(&mut self, buf: &mut Vec<u8>, limit: usize) -> io::Result<Option<Line>> {
        buf.clear();
        let mut overflow = false;
        let mut last = None;
        loop {
            let available = match tokio::time::timeout(IDLE_TIMEOUT, self.reader.fill_buf()).await {
                Ok(read) => read?,
                Err(_) => return Err(io::Error::new(io::ErrorKind::TimedOut, "idle connection")),
            };
            if available.is_empty() {
                return Ok(None);
            }
            let end = available.iter().position(|&b| b == b'\n');
            let chunk = match end {
                Some(i) => &available[..=i],
                None => available,
            };
            let room = limit.saturating_sub(buf.len());
            if chunk.len() > room {
                overflow = true;
            }
            buf.extend_from_slice(&chunk[..chunk.len().min(room)]);
            let used = chunk.len();
            let before_lf = match end {
                Some(i) if i > 0 => chunk.get(i - 1).copied(),
                Some(_) => last,
                None => None,
            };
            last = chunk.last().copied();
            self.reader.consume(used);
            if end.is_some() {
                return Ok(Some(Line {
                    overflow,
                    crlf: before_lf == Some(b'\r'),
                }));
            }
        }
    }

    /// Writes one reply (which may hold several CRLF-separated lines) and its final CRLF.
    async fn reply(&mut self, reply: &str) -> io::Result<()> {
        let mut bytes = Vec::with_capacity(reply.len() + 2);
        bytes.extend_from_slice(reply.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        match tokio::time::timeout(IDLE_TIMEOUT, self.writer.write_all(&bytes)).await {
            Ok(written) => written,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "client not reading",
            )),
        }
    }
}

/// `code text` on one line, whatever the test put in the text.
fn reply_line(code: u16, text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let text = text.trim();
    if text.is_empty() {
        code.to_string()
    } else {
        format!("{code} {text}")
    }
}

/// Client text fit to echo in a reply: no control characters, not too long.
fn printable(text: &str) -> String {
    text.chars()
        .take(64)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// `<address> params` (spaces allowed before `<`) into the address, without any source route
/// (`<@a,@b:user@host>`), and the parameters.
fn parse_path(text: &str) -> Option<(&str, &str)> {
    let text = text.trim_start().strip_prefix('<')?;
    let (address, params) = text.split_once('>')?;
    let address = match address.split_once(':') {
        Some((_route, mailbox)) if address.starts_with('@') => mailbox,
        _ => address,
    };
    Some((address, params.trim()))
}
