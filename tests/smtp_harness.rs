//! Self-test of the SMTP test server in `common::smtp`: `lettre`'s client (the one portalfeed
//! sends digests with) against it, and a raw client for what lettre never sends.

mod common;

use std::time::Duration;

use common::smtp::{MAX_MESSAGE_BYTES, Mode, SmtpServer};
use lettre::message::Body;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::transport::smtp::Error as SmtpError;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

const WAIT: Duration = Duration::from_secs(2);

fn transport(server: &SmtpServer) -> AsyncSmtpTransport<Tokio1Executor> {
    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous("127.0.0.1")
        .port(server.port())
        .timeout(Some(Duration::from_secs(2)))
        .build()
}

fn message(to: &[&str], subject: &str, body: &str) -> Message {
    let mut builder = Message::builder()
        .from("Portalfeed <feeds@example.org>".parse().unwrap())
        .subject(subject)
        .header(ContentType::TEXT_PLAIN);
    for to in to {
        builder = builder.to(to.parse().unwrap());
    }
    builder.body(body.to_owned()).unwrap()
}

async fn send(
    mailer: &AsyncSmtpTransport<Tokio1Executor>,
    to: &[&str],
    subject: &str,
) -> Result<lettre::transport::smtp::response::Response, SmtpError> {
    mailer.send(message(to, subject, "Hello.\n")).await
}

#[tokio::test]
async fn pooled_transport_sends_two_messages_over_one_connection() {
    let server = SmtpServer::start().await;
    assert_eq!(server.url(), format!("smtp://127.0.0.1:{}", server.port()));
    let mailer = transport(&server);

    let first = send(&mailer, &["a@example.org"], "first").await.unwrap();
    assert_eq!(u16::from(first.code()), 250);
    // lettre hands a used connection back to its pool from a spawned task: without giving that
    // task a turn, the next send finds the pool empty and opens a second connection.
    tokio::task::yield_now().await;
    send(&mailer, &["b@example.org", "c@example.org"], "second")
        .await
        .unwrap();

    let received = server.wait_for(2, WAIT).await;
    assert_eq!(received.len(), 2);
    assert_eq!(server.connections(), 1);
    assert!(received.iter().all(|r| r.connection == 1), "{received:?}");
    assert_eq!(received[0].from, "feeds@example.org");
    assert_eq!(received[0].to, ["a@example.org"]);
    assert_eq!(received[1].to, ["b@example.org", "c@example.org"]);
    assert!(received[0].text().contains("Subject: first\r\n"));
    assert!(received[1].text().contains("Subject: second\r\n"));
    // Reuse without a new greeting: lettre checks a parked connection with NOOP (it sends no RSET
    // between messages).
    let commands: Vec<String> = server.commands().into_iter().map(|(_, c)| c).collect();
    assert_eq!(
        commands.iter().filter(|c| c.starts_with("EHLO ")).count(),
        1
    );
    assert_eq!(commands.iter().filter(|c| *c == "DATA").count(), 2);
    assert!(commands.iter().any(|c| c == "NOOP"), "{commands:?}");
    mailer.shutdown().await;
    server.stop().await;
}

#[tokio::test]
async fn url_works_with_lettre_from_url() {
    let server = SmtpServer::start().await;
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::from_url(&server.url())
        .unwrap()
        .build();
    send(&mailer, &["a@example.org"], "by url").await.unwrap();
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn rcpt_rejections_are_transient_or_permanent() {
    let server = SmtpServer::start().await;
    let mailer = transport(&server);

    server.set_mode(Mode::RejectRcpt(450, "4.2.1 mailbox busy".into()));
    let err = send(&mailer, &["a@example.org"], "busy").await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert!(!err.is_permanent());
    assert_eq!(err.status().map(u16::from), Some(450));
    assert!(err.to_string().contains("mailbox busy"), "{err}");

    server.set_mode(Mode::RejectRcpt(550, "5.1.1 no such user".into()));
    let err = send(&mailer, &["a@example.org"], "nobody")
        .await
        .unwrap_err();
    assert!(err.is_permanent(), "{err:?}");
    assert!(!err.is_transient());
    assert_eq!(err.status().map(u16::from), Some(550));

    // One bad recipient among several: lettre gives up on the whole message.
    server.set_mode(Mode::RejectRecipients(
        vec!["Bad@Example.org".into()],
        550,
        "5.1.1 no such user".into(),
    ));
    let err = send(&mailer, &["good@example.org", "bad@example.org"], "mixed")
        .await
        .unwrap_err();
    assert!(err.is_permanent(), "{err:?}");
    send(&mailer, &["good@example.org"], "good only")
        .await
        .unwrap();

    server.set_mode(Mode::RejectData(554, "5.7.1 rejected as spam".into()));
    let err = send(&mailer, &["a@example.org"], "spam").await.unwrap_err();
    assert!(err.is_permanent(), "{err:?}");
    server.set_mode(Mode::RejectData(451, "4.3.0 try again later".into()));
    let err = send(&mailer, &["a@example.org"], "later")
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");

    server.set_mode(Mode::Accept);
    send(&mailer, &["a@example.org"], "accepted").await.unwrap();

    let received = server.received();
    let subjects: Vec<String> = received.iter().map(|r| subject(&r.text())).collect();
    assert_eq!(subjects, ["good only", "accepted"]);
    // lettre closes the connection after any error reply, so each failure cost one.
    assert!(server.connections() >= 5, "{}", server.connections());
}

#[tokio::test]
async fn stop_then_start_on_the_same_port() {
    let server = SmtpServer::start().await;
    let port = server.port();
    let mailer = transport(&server);
    send(&mailer, &["a@example.org"], "before").await.unwrap();
    server.stop().await;

    // Down: the pooled connection fails its NOOP and a new one is refused.
    let err = send(&mailer, &["a@example.org"], "while down")
        .await
        .unwrap_err();
    assert!(!err.is_transient() && !err.is_permanent(), "{err:?}");
    assert!(err.status().is_none());

    let server = SmtpServer::start_on(port).await;
    assert_eq!(server.port(), port);
    send(&mailer, &["a@example.org"], "after").await.unwrap();
    let received = server.received();
    assert_eq!(received.len(), 1, "a restarted server starts empty");
    assert_eq!(subject(&received[0].text()), "after");
    assert_eq!(received[0].connection, 1);
    server.stop().await;
}

#[tokio::test]
async fn lines_starting_with_a_dot_round_trip() {
    let server = SmtpServer::start().await;
    let mailer = transport(&server);

    let body = ".starts with a dot\n..two dots\n.\nlast line";
    mailer
        .send(message(&["a@example.org"], "dots", body))
        .await
        .unwrap();
    let received = server.wait_for(1, WAIT).await;
    let text = received[0].text();
    assert!(
        text.ends_with("\r\n\r\n.starts with a dot\r\n..two dots\r\n.\r\nlast line\r\n"),
        "{text:?}"
    );

    // Raw bytes: what arrives is exactly what was given, plus the CRLF that ends the last line.
    let raw = b"Subject: raw\r\n\r\n.a\r\n.\r\n..\r\nx.\r\n.".to_vec();
    let envelope = lettre::address::Envelope::new(
        Some("feeds@example.org".parse().unwrap()),
        vec!["a@example.org".parse().unwrap()],
    )
    .unwrap();
    mailer.send_raw(&envelope, &raw).await.unwrap();
    let received = server.wait_for(2, WAIT).await;
    let mut expected = raw.clone();
    expected.extend_from_slice(b"\r\n");
    assert_eq!(received[1].data, expected);
}

#[tokio::test]
async fn non_ascii_message_and_address_use_8bitmime_and_smtputf8() {
    let server = SmtpServer::start().await;
    let mailer = transport(&server);
    // lettre picks base64 for a non-ASCII body unless told 8bit; only then is 8BITMIME needed.
    let body = Body::new_with_encoding("今日更新\n".to_owned(), ContentTransferEncoding::EightBit)
        .unwrap();
    let email = Message::builder()
        .from("feeds@example.org".parse().unwrap())
        .to("读者@example.org".parse().unwrap())
        .subject("政务公开")
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .unwrap();
    mailer.send(email).await.unwrap();
    let received = server.wait_for(1, WAIT).await;
    assert_eq!(received[0].to, ["读者@example.org"]);
    assert!(received[0].text().contains("今日更新"));
}

#[tokio::test]
#[should_panic(expected = "waited 50ms for 1 message(s), 0 arrived")]
async fn wait_for_panics_with_what_arrived() {
    let server = SmtpServer::start().await;
    server.wait_for(1, Duration::from_millis(50)).await;
}

/// A hand-driven SMTP client, for what lettre never sends.
struct Raw {
    reader: BufReader<OwnedReadHalf>,
    writer: OwnedWriteHalf,
}

impl Raw {
    async fn connect(server: &SmtpServer) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", server.port()))
            .await
            .unwrap();
        let (reader, writer) = stream.into_split();
        let mut raw = Raw {
            reader: BufReader::new(reader),
            writer,
        };
        assert_eq!(raw.reply().await, ["220 localhost ESMTP test"]);
        raw
    }

    async fn write(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }

    /// One whole reply, one string per line without CRLF.
    async fn reply(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(WAIT, self.reader.read_line(&mut line))
                .await
                .expect("reply in time")
                .unwrap();
            assert!(n > 0, "connection closed; got {lines:?}");
            let line = line.strip_suffix("\r\n").expect("reply ends with CRLF");
            lines.push(line.to_owned());
            if line.as_bytes().get(3) != Some(&b'-') {
                return lines;
            }
        }
    }

    /// Sends one command and returns its (first) reply line.
    async fn cmd(&mut self, command: &str) -> String {
        self.write(format!("{command}\r\n").as_bytes()).await;
        self.reply().await.remove(0)
    }

    async fn closed(&mut self) -> bool {
        let mut rest = Vec::new();
        matches!(
            tokio::time::timeout(WAIT, self.reader.read_to_end(&mut rest)).await,
            Ok(Ok(_)) | Ok(Err(_))
        )
    }
}

fn code(reply: &str) -> &str {
    reply.get(..3).unwrap_or(reply)
}

fn subject(text: &str) -> String {
    text.lines()
        .find_map(|l| l.strip_prefix("Subject: "))
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn raw_dialogue_with_rset_between_messages() {
    let server = SmtpServer::start().await;
    let mut c = Raw::connect(&server).await;
    assert_eq!(code(&c.cmd("MAIL FROM:<a@example.org>").await), "503");
    c.write(b"EHLO client.example\r\n").await;
    assert_eq!(
        c.reply().await,
        [
            "250-localhost",
            "250-8BITMIME",
            "250-SMTPUTF8",
            "250 PIPELINING"
        ]
    );
    assert_eq!(code(&c.cmd("RCPT TO:<x@example.org>").await), "503");
    assert_eq!(code(&c.cmd("DATA").await), "503");
    assert_eq!(code(&c.cmd("VRFY someone").await), "502");
    assert_eq!(code(&c.cmd("STARTTLS").await), "502");
    assert_eq!(code(&c.cmd("").await), "500");
    assert_eq!(code(&c.cmd("NOOP").await), "250");

    // A transaction abandoned with RSET leaves nothing behind.
    assert_eq!(code(&c.cmd("mail from:<first@example.org>").await), "250");
    assert_eq!(code(&c.cmd("MAIL FROM:<again@example.org>").await), "503");
    assert_eq!(code(&c.cmd("RCPT TO:<x@example.org>").await), "250");
    assert_eq!(code(&c.cmd("RSET").await), "250");
    assert_eq!(code(&c.cmd("RCPT TO:<x@example.org>").await), "503");

    // Parameters, then a message; then the null sender, pipelined in one write.
    assert_eq!(
        code(
            &c.cmd("MAIL FROM:<b@example.org> SIZE=1000 BODY=8BITMIME SMTPUTF8")
                .await
        ),
        "250"
    );
    assert_eq!(
        code(&c.cmd("RCPT TO:<c@example.org> NOTIFY=NEVER").await),
        "555"
    );
    assert_eq!(code(&c.cmd("RCPT TO:<>").await), "501");
    assert_eq!(code(&c.cmd("RCPT TO: <c@example.org>").await), "250");
    assert_eq!(code(&c.cmd("DATA").await), "354");
    c.write(b"Subject: one\r\n\r\nbody\r\n.\r\n").await;
    let queued = c.reply().await.remove(0);
    assert!(queued.starts_with("250 2.0.0 Ok: queued as "), "{queued}");
    assert_eq!(code(&c.cmd("RSET").await), "250");
    c.write(b"MAIL FROM:<>\r\nRCPT TO:<d@example.org>\r\nDATA\r\n")
        .await;
    for expected in ["250", "250", "354"] {
        assert_eq!(code(&c.reply().await[0]), expected);
    }
    c.write(b"Subject: two\r\n\r\n..dot\r\n.\r\n").await;
    assert_eq!(code(&c.reply().await[0]), "250");
    assert_eq!(
        code(&c.cmd("MAIL FROM:<x@example.org> SIZE=99999999999").await),
        "552"
    );
    assert_eq!(
        code(&c.cmd("MAIL FROM:<x@example.org> AUTH=<>").await),
        "555"
    );
    assert_eq!(code(&c.cmd("HELO client.example").await), "250");
    assert_eq!(c.cmd("QUIT").await, "221 2.0.0 Bye");
    assert!(c.closed().await);

    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].from, "b@example.org");
    assert_eq!(received[0].to, ["c@example.org"]);
    assert_eq!(received[0].data, b"Subject: one\r\n\r\nbody\r\n");
    assert_eq!(received[1].from, "");
    assert_eq!(received[1].data, b"Subject: two\r\n\r\n.dot\r\n");
    assert!(received.iter().all(|r| r.connection == 1));
}

#[tokio::test]
async fn oversized_message_is_refused_and_the_connection_goes_on() {
    let server = SmtpServer::start().await;
    let mut c = Raw::connect(&server).await;
    assert_eq!(code(&c.cmd("HELO client.example").await), "250");
    assert_eq!(code(&c.cmd("MAIL FROM:<a@example.org>").await), "250");
    assert_eq!(code(&c.cmd("RCPT TO:<b@example.org>").await), "250");
    assert_eq!(code(&c.cmd("DATA").await), "354");
    // One 10 MiB line, then 1 MiB more in ordinary lines.
    let mut big = vec![b'x'; MAX_MESSAGE_BYTES];
    big.extend_from_slice(b"\r\n");
    for _ in 0..1024 {
        big.extend_from_slice(&[b'y'; 1022]);
        big.extend_from_slice(b"\r\n");
    }
    big.extend_from_slice(b".\r\n");
    // The server reads to the end before it answers, so one write_all cannot block for good.
    c.write(&big).await;
    assert_eq!(code(&c.reply().await[0]), "552");
    assert!(server.received().is_empty());

    // The transaction is over; the next one on the same connection goes through.
    assert_eq!(code(&c.cmd("RCPT TO:<b@example.org>").await), "503");
    assert_eq!(code(&c.cmd("MAIL FROM:<a@example.org>").await), "250");
    assert_eq!(code(&c.cmd("RCPT TO:<b@example.org>").await), "250");
    assert_eq!(code(&c.cmd("DATA").await), "354");
    c.write(b"small\r\n.\r\n").await;
    assert_eq!(code(&c.reply().await[0]), "250");
    assert_eq!(server.received()[0].data, b"small\r\n");
}

#[tokio::test]
async fn bad_input_gets_error_replies_not_a_dead_server() {
    let server = SmtpServer::start().await;

    let mut c = Raw::connect(&server).await;
    c.write(b"\xff\xfe\x00 \x80garbage\r\n").await;
    assert_eq!(code(&c.reply().await[0]), "502");
    c.write(&[b'A'; 10_000]).await;
    c.write(b"\r\n").await;
    assert_eq!(code(&c.reply().await[0]), "500");
    assert_eq!(code(&c.cmd("EHLO").await), "501");
    assert_eq!(
        code(&c.cmd("MAIL FROM:<\u{1F600}@example.org> BODY=16BIT").await),
        "503"
    );
    assert_eq!(code(&c.cmd("HELO \u{4E2D}\u{6587}").await), "250");
    for (command, expected) in [
        ("MAIL FROM:\u{4E2D}", "501"),
        ("MAIL FROM:<unterminated", "501"),
        ("MAIL FROM:<a@example.org> SIZE=lots", "501"),
        ("MAIL FROM:<a@example.org> BODY=16BIT", "501"),
        ("MAIL FROM:<@relay.example:a@example.org>", "250"),
        ("RCPT TO:<\u{1F600}@example.org>", "250"),
        ("DATA now", "501"),
    ] {
        assert_eq!(code(&c.cmd(command).await), expected, "{command}");
    }
    // Bare LF line ends are read; a "." after a bare LF is not the end of the data.
    assert_eq!(code(&c.cmd("DATA").await), "354");
    c.write(b"a\n.\nb\r\n.\r\n").await;
    assert_eq!(code(&c.reply().await[0]), "250");
    let received = server.received();
    assert_eq!(received[0].from, "a@example.org");
    assert_eq!(received[0].to, ["\u{1F600}@example.org"]);
    assert_eq!(received[0].data, b"a\n.\nb\r\n");

    // A client that vanishes mid-message or mid-line hurts nobody.
    assert_eq!(code(&c.cmd("MAIL FROM:<a@example.org>").await), "250");
    assert_eq!(code(&c.cmd("RCPT TO:<b@example.org>").await), "250");
    assert_eq!(code(&c.cmd("DATA").await), "354");
    c.write(b"half a message\r\nand no end").await;
    drop(c);
    let mut c = Raw::connect(&server).await;
    c.write(b"NOOP and no line end").await;
    drop(c);

    let mut c = Raw::connect(&server).await;
    assert_eq!(code(&c.cmd("NOOP").await), "250");
    assert_eq!(server.received().len(), 1);
    assert_eq!(server.connections(), 3);
}
