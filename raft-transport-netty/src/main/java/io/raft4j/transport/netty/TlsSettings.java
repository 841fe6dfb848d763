package io.raft4j.transport.netty;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Mutual TLS for {@link NettyTransport}: every member presents a certificate signed by an authority
 * in {@code trustedCertificates}, and accepts only peers that do the same, in both directions. A
 * process without such a certificate can neither open a connection to a member nor receive from
 * one, so it can neither join nor inject messages.
 *
 * <p>One key pair serves both roles (it is used as the server certificate on accepted connections
 * and as the client certificate on dialed ones), so issue it for both TLS server and client
 * authentication. Peers are authenticated by the authority that signed them, not by host name:
 * addresses are often IPs, and the member id travels in each frame. So any holder of a certificate
 * from a trusted authority may send as any member id: give the cluster an authority of its own.
 *
 * <p>The files are read once, when the transport starts (there is no reload: rotate certificates
 * by restarting members one at a time), and a certificate is checked at each handshake only, so
 * one that expires keeps the connections it has. {@link NettyTransport#start} refuses settings
 * whose certificate and key fail a handshake with themselves (see {@code TlsSelfCheck}).
 *
 * @param certificateChain    PEM file: this member's certificate, then any intermediates
 * @param privateKey          PEM file: the certificate's private key, PKCS#8
 * @param privateKeyPassword  the key file's password, or {@code null} if it is not encrypted
 * @param trustedCertificates PEM file: the authorities whose members may connect
 */
public record TlsSettings(Path certificateChain, Path privateKey, String privateKeyPassword,
                          Path trustedCertificates) {
    public TlsSettings {
        Objects.requireNonNull(certificateChain, "certificateChain");
        Objects.requireNonNull(privateKey, "privateKey");
        Objects.requireNonNull(trustedCertificates, "trustedCertificates");
    }

    /** Settings for an unencrypted private key. */
    public static TlsSettings of(Path certificateChain, Path privateKey, Path trustedCertificates) {
        return new TlsSettings(certificateChain, privateKey, null, trustedCertificates);
    }

    /**
     * The files, and whether the key has a password, but not the password: settings are printed in
     * logs, exception messages and debuggers (the record's own text showed the password as is).
     */
    @Override
    public String toString() {
        return "TlsSettings[certificateChain=" + certificateChain + ", privateKey=" + privateKey
                + ", privateKeyPassword=" + (privateKeyPassword == null ? "none" : "***")
                + ", trustedCertificates=" + trustedCertificates + "]";
    }

    /**
     * Fails early, at configuration time, if a file is missing, or if the key is not a PKCS#8 PEM
     * key, encrypted if and only if a password is given.
     */
    void checkFiles() {
        for (Path p : new Path[] {certificateChain, privateKey, trustedCertificates}) {
            if (!Files.isReadable(p)) {
                throw new IllegalArgumentException("TLS file not readable: " + p);
            }
        }
        PemKeyFile.problem(privateKey, privateKeyPassword != null).ifPresent(problem -> {
            throw new IllegalArgumentException(problem);
        });
    }
}
