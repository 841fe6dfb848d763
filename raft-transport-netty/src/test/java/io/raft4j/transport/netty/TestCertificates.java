package io.raft4j.transport.netty;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Certificate authorities and member certificates made at test time (BouncyCastle, EC P-256),
 * written as PEM files the transport's {@link TlsSettings} read.
 */
final class TestCertificates {
    private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());

    /** A self-signed certificate authority. */
    static final class Authority {
        final String name;
        final KeyPair keys;
        final X509Certificate certificate;
        final Path certificateFile;

        private Authority(String name, Path dir) throws Exception {
            this.name = name;
            this.keys = newKeyPair();
            X500Name subject = new X500Name("CN=" + name);
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), notBefore(), notAfter(),
                    subject, keys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            this.certificate = sign(b.build(signer(keys)));
            this.certificateFile = dir.resolve(name + "-ca.pem");
            writePem(certificateFile, certificate);
        }

        /**
         * A member certificate signed by this authority, usable as TLS server and client, naming
         * {@code member} as its node id (URI SAN {@code raft4j://node/<member>}).
         */
        TlsSettings issue(String member, Path dir) throws Exception {
            return issue(member, dir, notBefore(), notAfter(), member);
        }

        /**
         * As {@link #issue(String, Path)}, naming {@code nodeIds} instead (none: a certificate
         * issued before node ids were checked).
         */
        TlsSettings issueNaming(String member, Path dir, String... nodeIds) throws Exception {
            return issue(member, dir, notBefore(), notAfter(), nodeIds);
        }

        /** As {@link #issue(String, Path)}, valid from {@code validFrom} to {@code validUntil} only. */
        TlsSettings issue(String member, Path dir, Date validFrom, Date validUntil) throws Exception {
            return issue(member, dir, validFrom, validUntil, member);
        }

        private TlsSettings issue(String member, Path dir, Date validFrom, Date validUntil, String... nodeIds)
                throws Exception {
            KeyPair memberKeys = newKeyPair();
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(new X500Name("CN=" + name),
                    serial(), validFrom, validUntil, new X500Name("CN=" + member), memberKeys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true,
                    new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                    new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            java.util.List<GeneralName> names = new java.util.ArrayList<>(java.util.List.of(
                    new GeneralName(GeneralName.iPAddress, "127.0.0.1"), new GeneralName(GeneralName.dNSName, "localhost")));
            for (String id : nodeIds) {
                names.add(new GeneralName(GeneralName.uniformResourceIdentifier, nodeIdUri(id)));
            }
            b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
            X509Certificate cert = sign(b.build(signer(keys)));
            Path certFile = dir.resolve(member + "-by-" + name + ".pem");
            Path keyFile = dir.resolve(member + "-by-" + name + ".key");
            writePem(certFile, cert);
            try (Writer w = Files.newBufferedWriter(keyFile); JcaPEMWriter pem = new JcaPEMWriter(w)) {
                pem.writeObject(new JcaPKCS8Generator(memberKeys.getPrivate(), null));
            }
            return TlsSettings.of(certFile, keyFile, certificateFile);
        }
    }

    /**
     * The URI SAN naming node {@code id}, written here rather than taken from the code under test:
     * {@code raft4j://node/} then the id's UTF-8 bytes, percent-encoded but for RFC 3986's unreserved characters.
     */
    static String nodeIdUri(String id) {
        StringBuilder uri = new StringBuilder("raft4j://node/");
        for (byte b : id.getBytes(java.nio.charset.StandardCharsets.UTF_8)) {
            char c = (char) (b & 0xFF);
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || "-._~".indexOf(c) >= 0) {
                uri.append(c);
            } else {
                uri.append('%').append(String.format("%02X", b & 0xFF));
            }
        }
        return uri.toString();
    }

    /** The private key in {@code pkcs8File}, an unencrypted PKCS#8 PEM file as {@link Authority#issue} writes. */
    static java.security.PrivateKey readKey(Path pkcs8File) throws IOException {
        try (org.bouncycastle.openssl.PEMParser pem = new org.bouncycastle.openssl.PEMParser(Files.newBufferedReader(pkcs8File))) {
            return new org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter().getPrivateKey(
                    (org.bouncycastle.asn1.pkcs.PrivateKeyInfo) pem.readObject());
        }
    }

    /** Writes {@code key} as PKCS#8 encrypted with {@code password} (AES-256-CBC, as openssl pkcs8 -topk8 does). */
    static Path writeEncryptedKey(java.security.PrivateKey key, String password, Path file) throws Exception {
        try (Writer w = Files.newBufferedWriter(file); JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(new JcaPKCS8Generator(key, new org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder(
                    org.bouncycastle.openssl.PKCS8Generator.AES_256_CBC).setProvider(new org.bouncycastle.jce.provider.BouncyCastleProvider())
                    .setPassword(password.toCharArray()).build()));
        }
        return file;
    }

    /** Writes {@code key} in OpenSSL's traditional format ("BEGIN EC PRIVATE KEY"), not PKCS#8. */
    static Path writeTraditionalKey(java.security.PrivateKey key, Path file) throws IOException {
        try (Writer w = Files.newBufferedWriter(file); JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(key);
        }
        return file;
    }

    private TestCertificates() {
    }

    static Authority authority(String name, Path dir) throws Exception {
        return new Authority(name, dir);
    }

    private static KeyPair newKeyPair() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static ContentSigner signer(KeyPair issuer) throws Exception {
        return new JcaContentSignerBuilder("SHA256withECDSA").build(issuer.getPrivate());
    }

    private static X509Certificate sign(X509CertificateHolder holder) throws GeneralSecurityException {
        return new JcaX509CertificateConverter().getCertificate(holder);
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static Date notBefore() {
        return Date.from(Instant.now().minus(1, ChronoUnit.HOURS));
    }

    private static Date notAfter() {
        return Date.from(Instant.now().plus(1, ChronoUnit.DAYS));
    }

    private static void writePem(Path file, Object object) throws IOException {
        try (Writer w = Files.newBufferedWriter(file); JcaPEMWriter pem = new JcaPEMWriter(w)) {
            pem.writeObject(object);
        }
    }
}
