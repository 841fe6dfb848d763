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
 * authentication. Peers are authenticated by the authority that signed them, not by host name
 * (addresses are often IPs), and bound to node ids by their certificates: with
 * {@code checkNodeIds} (the default), a member's certificate must name each node id its process
 * registers, as a URI subject alternative name {@code raft4j://node/<id>} (the id percent-encoded
 * as UTF-8 where it holds other characters than letters, digits and {@code -._~}). A receiver then
 * refuses a frame whose sender id the connection's certificate does not name, and a member sends
 * to a peer only once the certificate of the server it dialled names that peer's id. Without the
 * check ({@link #withoutNodeIdCheck()}, for certificates issued without such names), any holder of
 * a certificate from a trusted authority may send as any member id. Either way, give the cluster an
 * authority of its own.
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
 * @param checkNodeIds        whether peers' certificates must name the node ids they send as and
 *                            are dialled as (and this member's own, the ids it registers); default
 *                            true
 */
public record TlsSettings(Path certificateChain, Path privateKey, String privateKeyPassword,
                          Path trustedCertificates, boolean checkNodeIds) {
    public TlsSettings {
        Objects.requireNonNull(certificateChain, "certificateChain");
        Objects.requireNonNull(privateKey, "privateKey");
        Objects.requireNonNull(trustedCertificates, "trustedCertificates");
    }

    /** Settings that check node ids (see {@link TlsSettings}). */
    public TlsSettings(Path certificateChain, Path privateKey, String privateKeyPassword, Path trustedCertificates) {
        this(certificateChain, privateKey, privateKeyPassword, trustedCertificates, true);
    }

    /** Settings for an unencrypted private key, checking node ids. */
    public static TlsSettings of(Path certificateChain, Path privateKey, Path trustedCertificates) {
        return new TlsSettings(certificateChain, privateKey, null, trustedCertificates);
    }

    /**
     * These settings without the node-id check: for certificates that name no node id (issued
     * before the check existed). Any holder of a certificate from a trusted authority may then send
     * as any member, and a member sends to whichever trusted server its address for a peer reaches;
     * the transport warns of it when it starts. To turn the check on in a running cluster, give every
     * member a certificate naming its ids first (members with the check off accept them), then turn
     * the check on member by member.
     */
    public TlsSettings withoutNodeIdCheck() {
        return new TlsSettings(certificateChain, privateKey, privateKeyPassword, trustedCertificates, false);
    }

    /**
     * The files, and whether the key has a password, but not the password: settings are printed in
     * logs, exception messages and debuggers (the record's own text showed the password as is).
     */
    @Override
    public String toString() {
        return "TlsSettings[certificateChain=" + certificateChain + ", privateKey=" + privateKey
                + ", privateKeyPassword=" + (privateKeyPassword == null ? "none" : "***")
                + ", trustedCertificates=" + trustedCertificates + ", checkNodeIds=" + checkNodeIds + "]";
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
        if (privateKeyPassword != null) {
            for (int i = 0; i < privateKeyPassword.length(); i++) {
                char c = privateKeyPassword.charAt(i);
                if (c < ' ' || c > '~') {
                    // The JDK's PBE keys take printable ASCII only; Netty reported any other password
                    // as "File does not contain valid private key", pointing at the wrong file.
                    throw new IllegalArgumentException("TLS: the password of " + privateKey + " holds a character"
                            + " other than printable ASCII (at " + i + "): the JDK cannot decrypt a key with such a"
                            + " password; encrypt the key again with one of letters, digits, punctuation and spaces");
                }
            }
        }
    }
}
