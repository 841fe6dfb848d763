package io.raft4j.examples.kv;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.jce.provider.BouncyCastleProvider;
import org.bouncycastle.openssl.PKCS8Generator;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JceOpenSSLPKCS8EncryptorBuilder;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A cluster authority and node certificates for the KV node's TLS options, made at test time
 * (EC P-256) and written as the PEM files {@code --tls-cert}, {@code --tls-key} and {@code --tls-ca} take.
 */
final class NodeCertificates {
    private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());

    private final Path dir;
    private final KeyPair caKeys;
    private final X500Name caName = new X500Name("CN=kv-test-ca");
    /** The authority's certificate: the {@code --tls-ca} file. */
    final Path ca;

    NodeCertificates(Path dir) throws Exception {
        this.dir = dir;
        this.caKeys = newKeyPair();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caName, serial(), from(), until(), caName,
                caKeys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        this.ca = dir.resolve("ca.pem");
        write(ca, new JcaX509CertificateConverter().getCertificate(b.build(sign())));
    }

    /**
     * A certificate for a node, named {@code name} in its files, naming {@code nodeIds} as
     * {@code raft4j://node/<id>} URI SANs (none: one issued before ids were checked).
     *
     * @return the {@code --tls-cert, --tls-key, --tls-ca} options and their values
     */
    List<String> issue(String name, String... nodeIds) throws Exception {
        return issueEncrypted(name, null, nodeIds);
    }

    /**
     * As {@link #issue(String, String...)}, the key encrypted with {@code keyPassword} (PKCS#8,
     * AES-256-CBC, as {@code openssl pkcs8 -topk8} writes it) unless that is {@code null}.
     */
    List<String> issueEncrypted(String name, String keyPassword, String... nodeIds) throws Exception {
        KeyPair keys = newKeyPair();
        JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(caName, serial(), from(), until(),
                new X500Name("CN=" + name), keys.getPublic());
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
        List<GeneralName> names = new ArrayList<>(List.of(new GeneralName(GeneralName.iPAddress, "127.0.0.1")));
        for (String id : nodeIds) {
            names.add(new GeneralName(GeneralName.uniformResourceIdentifier, "raft4j://node/" + id));   // plain ids only
        }
        b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
        Path cert = dir.resolve(name + ".pem");
        Path key = dir.resolve(name + ".key");
        write(cert, new JcaX509CertificateConverter().getCertificate(b.build(sign())));
        write(key, new JcaPKCS8Generator(keys.getPrivate(), keyPassword == null ? null
                : new JceOpenSSLPKCS8EncryptorBuilder(PKCS8Generator.AES_256_CBC).setProvider(new BouncyCastleProvider())
                .setPassword(keyPassword.toCharArray()).build()));
        return List.of("--tls-cert", cert.toString(), "--tls-key", key.toString(), "--tls-ca", ca.toString());
    }

    private org.bouncycastle.operator.ContentSigner sign() throws Exception {
        return new JcaContentSignerBuilder("SHA256withECDSA").build(caKeys.getPrivate());
    }

    private static KeyPair newKeyPair() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return BigInteger.valueOf(SERIAL.incrementAndGet());
    }

    private static Date from() {
        return Date.from(Instant.now().minus(1, ChronoUnit.HOURS));
    }

    private static Date until() {
        return Date.from(Instant.now().plus(1, ChronoUnit.DAYS));
    }

    private static void write(Path file, Object pem) throws IOException {
        try (Writer w = Files.newBufferedWriter(file); JcaPEMWriter out = new JcaPEMWriter(w)) {
            out.writeObject(pem);
        }
    }
}
