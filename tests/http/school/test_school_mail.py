"""studyhub.clients.mail: the credentials email, STARTTLS / smtps with a real server, refusals, sealing."""

from __future__ import annotations

import datetime
import ipaddress
import ssl

import pytest
from conftest import free_port
from mail_fixtures import SmtpServer


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    """A self-signed certificate for localhost / 127.0.0.1, trusted through SSL_CERT_FILE."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def server_context(tls_files) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*map(str, tls_files))
    return context


def use_smtp(monkeypatch, url: str) -> None:
    from studyhub.core import config

    monkeypatch.setenv("SMTP_URL", url)
    config.reset()


def credentials_email(**overrides):
    from studyhub.clients.mail import render_credentials

    values = {"to": "xm@example.com", "username": "xiaoming", "password": "Pa55word-x9", "class_name": "一班"}
    return render_credentials(**{**values, **overrides})


def test_the_email_has_plain_text_and_html_with_escaped_values(platform):
    message = credentials_email(class_name="<b>一班</b>", password="a&b<c>d123")
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "xiaoming" in text and "a&b<c>d123" in text and "<b>一班</b>" in text
    assert "a&amp;b&lt;c&gt;d123" in html and "&lt;b&gt;一班&lt;/b&gt;" in html
    assert "一班" in message["Subject"] and message["To"] == "xm@example.com"


def test_starttls_is_used_when_the_server_offers_it_and_credentials_are_sent(platform, monkeypatch, tls_files):
    from aiosmtpd.smtp import AuthResult

    from studyhub.clients.mail import send

    logins = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.login == b"mailer" and auth_data.password == b"s3cr%t")

    server = SmtpServer(
        free_port(), tls_context=server_context(tls_files), require_starttls=True, authenticator=authenticator
    )
    server.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(tls_files[0]))
        use_smtp(monkeypatch, f"smtp://mailer:s3cr%25t@localhost:{server.port}")
        assert send(credentials_email()) == f"smtp://localhost:{server.port}"
        ((recipients, message, over_tls),) = server.received
        assert over_tls and recipients == ["xm@example.com"]
        assert logins == [(b"mailer", b"s3cr%t")]
        assert "Pa55word-x9" in message.get_body(("plain",)).get_content()
    finally:
        server.stop()


def test_smtps_speaks_tls_from_the_first_byte(platform, monkeypatch, tls_files):
    from studyhub.clients.mail import send

    server = SmtpServer(free_port(), ssl_context=server_context(tls_files))
    server.start()
    try:
        monkeypatch.setenv("SSL_CERT_FILE", str(tls_files[0]))
        use_smtp(monkeypatch, f"smtps://localhost:{server.port}")
        send(credentials_email())
        assert len(server.received) == 1
    finally:
        server.stop()


def test_an_untrusted_certificate_is_refused(platform, monkeypatch, tls_files):
    from studyhub.clients.mail import send

    server = SmtpServer(free_port(), tls_context=server_context(tls_files), require_starttls=True)
    server.start()
    try:
        monkeypatch.delenv("SSL_CERT_FILE", raising=False)
        use_smtp(monkeypatch, f"smtp://localhost:{server.port}")
        with pytest.raises(ssl.SSLError):
            send(credentials_email())
        assert server.received == []
    finally:
        server.stop()


def test_a_refused_recipient_is_a_permanent_failure(platform, monkeypatch):
    from studyhub.clients.mail import PermanentMailError, send

    class Refusing(SmtpServer):
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            return "550 5.1.1 no such user"

    server = Refusing(free_port())
    server.start()
    try:
        use_smtp(monkeypatch, f"smtp://127.0.0.1:{server.port}")
        with pytest.raises(PermanentMailError):
            send(credentials_email())
    finally:
        server.stop()


def test_a_stopped_server_is_a_transient_failure(platform, monkeypatch):
    from studyhub.clients.mail import send

    use_smtp(monkeypatch, f"smtp://127.0.0.1:{free_port()}")
    with pytest.raises(OSError):
        send(credentials_email())


def test_sealed_secrets_open_only_with_the_same_jwt_secret(platform, monkeypatch):
    from studyhub.clients import mail
    from studyhub.core import config

    token = mail.seal("Pa55word-x9")
    assert "Pa55word" not in token and mail.unseal(token) == "Pa55word-x9"
    monkeypatch.setenv("JWT_SECRET", "another-secret-" * 4)
    config.reset()
    mail.reset()
    with pytest.raises(ValueError):
        mail.unseal(token)
    mail.reset()


def test_smtp_url_must_be_smtp_or_smtps():
    from studyhub.clients.mail import SmtpTarget

    assert SmtpTarget.parse("smtp://mail.example.com").port == 25
    assert SmtpTarget.parse("smtps://u:p%40ss@mail.example.com").port == 465
    assert SmtpTarget.parse("smtps://u:p%40ss@mail.example.com").password == "p@ss"
    with pytest.raises(ValueError):
        SmtpTarget.parse("http://mail.example.com")
