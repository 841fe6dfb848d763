package io.raft4j.transport.netty;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The node ids a member's TLS certificate names: one URI subject alternative name
 * {@code raft4j://node/<id>} per id, the id percent-encoded as UTF-8 (RFC 3986). A URI, as SPIFFE
 * ids are, because it cannot be mistaken for a host name the way a DNS SAN or the subject's CN can
 * (certificates also carry the member's host names and addresses), and because any node id can be
 * written in one. Several are allowed: one process may register several ids with its transport.
 *
 * @param ids the ids named, decoded; empty if the certificate names none
 */
record CertifiedNodeIds(Set<String> ids) {
    /** What every node-id SAN begins with; the scheme and host are compared ignoring case, as URIs' are. */
    static final String URI_PREFIX = "raft4j://node/";
    private static final int URI_SAN = 6;   // GeneralName's uniformResourceIdentifier
    private static final String UNRESERVED = "-._~";
    /** Ids shown in a message, at most: a certificate could name thousands. */
    private static final int SHOWN = 5;

    CertifiedNodeIds {
        ids = Set.copyOf(ids);
    }

    /**
     * The ids {@code certificate} names. SANs of other kinds, and URIs of other schemes or that do
     * not parse, are ignored.
     */
    static CertifiedNodeIds of(Certificate certificate) {
        Set<String> ids = new TreeSet<>();
        if (certificate instanceof X509Certificate x509) {
            Collection<List<?>> names;
            try {
                names = x509.getSubjectAlternativeNames();
            } catch (CertificateParsingException e) {
                names = null;   // an extension that does not parse names nothing
            }
            if (names != null) {
                for (List<?> name : names) {
                    if (name.size() >= 2 && Integer.valueOf(URI_SAN).equals(name.get(0))
                            && name.get(1) instanceof String uri) {
                        String id = idIn(uri);
                        if (id != null) {
                            ids.add(id);
                        }
                    }
                }
            }
        }
        return new CertifiedNodeIds(ids);
    }

    /** The id a {@code raft4j://node/<id>} URI names, or {@code null} if it is not one. */
    static String idIn(String uri) {
        URI parsed;
        try {
            parsed = new URI(uri);
        } catch (URISyntaxException e) {
            return null;
        }
        String path = parsed.getRawPath();
        if (!"raft4j".equalsIgnoreCase(parsed.getScheme()) || !"node".equalsIgnoreCase(parsed.getHost())
                || parsed.getRawUserInfo() != null || parsed.getPort() != -1 || parsed.getRawQuery() != null
                || parsed.getRawFragment() != null || path == null || path.length() < 2) {
            return null;
        }
        return decodeStrictly(path.substring(1));
    }

    /**
     * The percent-decoded id, or {@code null} if its escapes are not UTF-8. URI.getPath() made
     * U+FFFD of a bad escape, so {@code %C3} and {@code %FF} named the same odd id.
     */
    private static String decodeStrictly(String raw) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(raw.length());
        int i = 0;
        while (i < raw.length()) {
            if (raw.charAt(i) == '%') {
                if (i + 3 > raw.length()) {
                    return null;   // not after URI parsed it, which checks every escape
                }
                bytes.write(HexFormat.fromHexDigits(raw, i + 1, i + 3));
                i += 3;
            } else {
                int next = raw.indexOf('%', i);
                int end = next < 0 ? raw.length() : next;
                // Characters left unescaped (URI takes other than ASCII as is): their UTF-8, whole runs
                // at a time so that characters beyond the BMP keep both halves.
                bytes.writeBytes(raw.substring(i, end).getBytes(StandardCharsets.UTF_8));
                i = end;
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** The URI SAN naming {@code id}: its UTF-8 bytes percent-encoded but for RFC 3986's unreserved characters. */
    static String uriFor(String id) {
        StringBuilder uri = new StringBuilder(URI_PREFIX);
        for (byte b : id.getBytes(StandardCharsets.UTF_8)) {
            int c = b & 0xFF;
            boolean unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || UNRESERVED.indexOf(c) >= 0;
            if (unreserved) {
                uri.append((char) c);
            } else {
                uri.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 0xF, 16)));
            }
        }
        return uri.toString();
    }

    boolean names(String id) {
        return ids.contains(id);
    }

    /** For messages: {@code the node ids [a, b]}, or {@code no node id}. */
    String describe() {
        return ids.isEmpty() ? "no node id" : "the node ids " + this;
    }

    /** For messages: {@code [a, b]}, at most a few ids, each cut to 64 characters; {@code []} if none. */
    @Override
    public String toString() {
        List<String> shown = ids.stream().limit(SHOWN).map(CertifiedNodeIds::abbreviate).toList();
        return "[" + String.join(", ", shown) + (ids.size() > SHOWN ? ", ..." : "") + "]";
    }

    /** Cut to 64 characters, control characters (an id may hold any a URI can encode) shown as '?'. */
    private static String abbreviate(String s) {
        String cut = s.length() <= 64 ? s : s.substring(0, 64) + "...";
        return cut.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }
}
