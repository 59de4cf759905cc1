using System.Text;
using Npgsql;

namespace IamVet.Schema.Runner.Configuration;

/// <summary>
/// libpq's connection URI (<c>postgresql://[user[:password]@][host][:port][,…][/dbname][?param=value&amp;…]</c>,
/// or <c>postgres://</c>), as Neon's console, Prisma's <c>DATABASE_URL</c> and most managed hosts hand
/// it out, read into an <see cref="NpgsqlConnectionStringBuilder"/> the way libpq reads it: the user
/// info up to the first <c>@</c> before a <c>/</c>; hosts separated by <c>,</c>, each with its own
/// port, IPv6 addresses in brackets; every part percent-decoded (<c>+</c> stays <c>+</c>); a query
/// parameter overrides the same part given before it (<c>postgresql:///db?host=/var/run/postgresql</c>);
/// <c>ssl=true</c> means <c>sslmode=require</c>, as in JDBC. Npgsql does not read URIs itself.
/// <para>
/// Every error names the part or the parameter that is wrong, never a value: a malformed URI can
/// have its password anywhere. An unknown parameter, and a libpq parameter the runner has no
/// equivalent for (<c>hostaddr</c>, <c>service</c>, <c>sslcrl</c>, …), is an error naming it.
/// </para>
/// </summary>
public static class PostgresUri
{
    private static readonly string[] Schemes = ["postgresql://", "postgres://"];

    /// <summary>libpq's parameters the runner cannot honour: refused by name rather than silently ignored.</summary>
    private static readonly HashSet<string> Unsupported = new(StringComparer.Ordinal)
    {
        "hostaddr", "service", "replication", "requiressl", "sslcompression", "sslcertmode", "sslcrl", "sslcrldir", "requirepeer",
        "ssl_min_protocol_version", "ssl_max_protocol_version", "gsslib", "gssdelegation", "keepalives_count", "tcp_user_timeout",
        "scram_client_key", "scram_server_key", "oauth_issuer", "oauth_client_id", "oauth_client_secret", "oauth_scope", "min_protocol_version",
        "max_protocol_version",
    };

    /// <summary>Whether <paramref name="text"/> is a connection URI (rather than Npgsql's <c>Key=Value;…</c>).</summary>
    public static bool IsUri(string text) =>
        Schemes.Any(scheme => text.TrimStart().StartsWith(scheme, StringComparison.OrdinalIgnoreCase));

    /// <summary>The URI's settings; a <see cref="ConfigurationException"/> naming what is wrong (never a value) otherwise.</summary>
    public static NpgsqlConnectionStringBuilder Parse(string uri)
    {
        var text = uri.Trim();
        var scheme = Schemes.First(s => text.StartsWith(s, StringComparison.OrdinalIgnoreCase));
        var rest = text[scheme.Length..];
        var values = new Dictionary<string, string>(StringComparer.Ordinal);

        // The user info: up to the first '@' before any '/' (libpq's rule; an '@' or '/' in a password must be percent-encoded).
        var at = rest.IndexOfAny(['@', '/']);
        if (at >= 0 && rest[at] == '@')
        {
            var userInfo = rest[..at];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            values["user"] = Decode(colon < 0 ? userInfo : userInfo[..colon], "the user name");
            if (colon >= 0)
            {
                values["password"] = Decode(userInfo[(colon + 1)..], "the password");
            }

            rest = rest[(at + 1)..];
        }

        // The hosts, each with an optional port: host[:port][,host[:port]]…
        var end = rest.IndexOfAny(['/', '?']);
        var hostList = end < 0 ? rest : rest[..end];
        rest = end < 0 ? "" : rest[end..];
        if (hostList.Length > 0)
        {
            var (hosts, ports) = SplitHosts(hostList);
            values["host"] = string.Join(',', hosts);
            if (ports.Any(p => p.Length > 0))
            {
                values["port"] = string.Join(',', ports);
            }
        }

        // The database: up to the query.
        if (rest.StartsWith('/'))
        {
            var query = rest.IndexOf('?', StringComparison.Ordinal);
            values["dbname"] = Decode(query < 0 ? rest[1..] : rest[1..query], "the database name");
            rest = query < 0 ? "" : rest[query..];
        }

        if (rest.StartsWith('?'))
        {
            foreach (var pair in rest[1..].Split('&'))
            {
                if (pair.Length == 0)
                {
                    continue;
                }

                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                if (equals < 0)
                {
                    throw Malformed("a query parameter has no '=' (name=value)");
                }

                if (pair.IndexOf('=', equals + 1) >= 0)
                {
                    throw Malformed("a query parameter has a second '=' in its value (percent-encode it as %3D)");
                }

                var name = Decode(pair[..equals], "a query parameter's name");
                var value = Decode(pair[(equals + 1)..], $"the value of {Named(name)}");
                if (name == "ssl")
                {
                    // JDBC's spelling, which libpq accepts for compatibility.
                    name = "sslmode";
                    value = value == "true" ? "require" : throw Malformed("the parameter ssl takes only the value true (JDBC's spelling of sslmode=require)");
                }

                values[name] = value;
            }
        }

        return Build(values);
    }

    /// <summary><c>host[:port]</c> items separated by <c>,</c>; IPv6 addresses in brackets. Returns the hosts (decoded) and their ports (empty: the default).</summary>
    private static (List<string> Hosts, List<string> Ports) SplitHosts(string hostList)
    {
        var hosts = new List<string>();
        var ports = new List<string>();
        foreach (var item in hostList.Split(','))
        {
            string host;
            string port;
            if (item.StartsWith('['))
            {
                var close = item.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    throw Malformed("an IPv6 host address has no closing ']'");
                }

                if (close == 1)
                {
                    throw Malformed("an IPv6 host address in brackets is empty");
                }

                host = item[1..close];
                var after = item[(close + 1)..];
                if (after.Length > 0 && after[0] != ':')
                {
                    throw Malformed("an IPv6 host address in brackets is followed by something other than ':port'");
                }

                port = after.Length > 0 ? after[1..] : "";
            }
            else
            {
                var colon = item.IndexOf(':', StringComparison.Ordinal);
                host = colon < 0 ? item : item[..colon];
                port = colon < 0 ? "" : item[(colon + 1)..];
            }

            hosts.Add(Decode(host, "a host name"));
            ports.Add(Decode(port, "a port"));
        }

        return (hosts, ports);
    }

    /// <summary>libpq's keywords, as given in the URI, onto Npgsql's settings.</summary>
    private static NpgsqlConnectionStringBuilder Build(Dictionary<string, string> values)
    {
        // Npgsql's defaults differ from libpq's in a few places the URI's reader relies on: none here,
        // but the builder is created empty so that every setting below is what the URI said.
        var builder = new NpgsqlConnectionStringBuilder();
        string[] hosts = [];
        string[] ports = [];
        foreach (var (name, value) in values)
        {
            switch (name)
            {
                case "host":
                    hosts = value.Split(',');
                    break;
                case "port":
                    ports = value.Split(',');
                    break;
                case "dbname":
                    builder.Database = NullIfEmpty(value);
                    break;
                case "user":
                    builder.Username = NullIfEmpty(value);
                    break;
                case "password":
                    builder.Password = value;
                    break;
                case "passfile":
                    builder.Passfile = value;
                    break;
                case "options":
                    builder.Options = NullIfEmpty(value);
                    break;
                case "application_name":
                case "fallback_application_name":
                    // The runner names each of its connections itself ("iamvet-schema <role>" in pg_stat_activity).
                    builder.ApplicationName = NullIfEmpty(value);
                    break;
                case "client_encoding":
                    builder.ClientEncoding = NullIfEmpty(value);
                    break;
                case "connect_timeout":
                    // libpq: seconds, 0 or less waits forever (Npgsql: 0).
                    builder.Timeout = Math.Min(Math.Max(Integer(name, value), 0), 1024);
                    break;
                case "keepalives":
                    builder.TcpKeepAlive = Integer(name, value) != 0;
                    break;
                case "keepalives_idle":
                    builder.TcpKeepAliveTime = Integer(name, value);
                    break;
                case "keepalives_interval":
                    builder.TcpKeepAliveInterval = Integer(name, value);
                    break;
                case "sslmode":
                    builder.SslMode = OneOf(name, value, ("disable", SslMode.Disable), ("allow", SslMode.Allow), ("prefer", SslMode.Prefer),
                        ("require", SslMode.Require), ("verify-ca", SslMode.VerifyCA), ("verify-full", SslMode.VerifyFull));
                    break;
                case "sslrootcert":
                    // "system" (libpq 16): the operating system's trusted CAs, which is what Npgsql uses without a root certificate.
                    builder.RootCertificate = value == "system" ? null : NullIfEmpty(value);
                    break;
                case "sslcert":
                    builder.SslCertificate = NullIfEmpty(value);
                    break;
                case "sslkey":
                    builder.SslKey = NullIfEmpty(value);
                    break;
                case "sslpassword":
                    builder.SslPassword = value;
                    break;
                case "sslsni":
                    // Npgsql always sends the host name (SNI), which Neon routes by; turning it off is not possible.
                    _ = value == "1" ? 0 : throw Invalid(name, "1 (the runner always sends the host name in the TLS handshake)");
                    break;
                case "sslnegotiation":
                    builder.SslNegotiation = OneOf(name, value, ("postgres", SslNegotiation.Postgres), ("direct", SslNegotiation.Direct));
                    break;
                case "channel_binding":
                    builder.ChannelBinding = OneOf(name, value, ("disable", ChannelBinding.Disable), ("prefer", ChannelBinding.Prefer), ("require", ChannelBinding.Require));
                    break;
                case "gssencmode":
                    builder.GssEncryptionMode = OneOf(name, value,
                        ("disable", GssEncryptionMode.Disable), ("prefer", GssEncryptionMode.Prefer), ("require", GssEncryptionMode.Require));
                    break;
                case "krbsrvname":
                    builder.KerberosServiceName = value;
                    break;
                case "require_auth":
                    builder.RequireAuth = NullIfEmpty(value);
                    break;
                case "target_session_attrs":
                    builder.TargetSessionAttributes = value is "any" or "read-write" or "read-only" or "primary" or "standby" or "prefer-standby"
                        ? value
                        : throw Invalid(name, "any, read-write, read-only, primary, standby or prefer-standby");
                    break;
                case "load_balance_hosts":
                    builder.LoadBalanceHosts = OneOf(name, value, ("disable", false), ("random", true));
                    break;
                default:
                    throw Unsupported.Contains(name)
                        ? Malformed($"the parameter {name} is libpq's, but the runner has no equivalent for it: leave it out")
                        : Malformed($"unknown parameter {Named(name)}: libpq's parameters are listed at https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS");
            }
        }

        SetHosts(builder, hosts, ports);
        return builder;
    }

    /// <summary>
    /// One host: Host and Port. Several: Npgsql's list <c>host:port,host:port</c> (IPv6 in brackets),
    /// each with its own port, or the one port for all of them, as libpq pairs them.
    /// </summary>
    private static void SetHosts(NpgsqlConnectionStringBuilder builder, string[] hosts, string[] ports)
    {
        foreach (var port in ports.Where(p => p.Length > 0))
        {
            if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
            {
                throw Malformed("a port is not a number from 1 to 65535");
            }
        }

        if (hosts.Length == 0 && ports.Length > 1)
        {
            throw Malformed($"{ports.Length} ports are given for no host");
        }

        if (hosts.Length > 1 && ports.Length > 1 && ports.Length != hosts.Length)
        {
            throw Malformed($"{ports.Length} ports are given for {hosts.Length} hosts (give one port for all, or one per host)");
        }

        if (hosts.Any(h => h.Contains('@', StringComparison.Ordinal)))
        {
            throw Malformed("a host name contains '@': percent-encode an '@' in the user name or password as %40");
        }

        if (ports.Length == 1 && ports[0].Length > 0)
        {
            builder.Port = int.Parse(ports[0], CultureInfo.InvariantCulture);
        }

        if (hosts.Length == 1)
        {
            builder.Host = NullIfEmpty(hosts[0]);
        }
        else if (hosts.Length > 1)
        {
            if (hosts.Any(h => h.Length == 0))
            {
                throw Malformed("a host in the list of hosts is empty");
            }

            builder.Host = string.Join(',', hosts.Select((host, i) =>
            {
                var port = ports.Length == hosts.Length ? ports[i] : "";
                var written = host.Contains(':', StringComparison.Ordinal) && port.Length > 0 ? $"[{host}]" : host;
                return port.Length > 0 ? $"{written}:{port}" : written;
            }));
        }
    }

    /// <summary>Percent-decoding as libpq does it: <c>%XX</c> bytes (UTF-8), no <c>+</c> for space, <c>%00</c> refused.</summary>
    private static string Decode(string text, string what)
    {
        if (!text.Contains('%', StringComparison.Ordinal))
        {
            return text;
        }

        var bytes = new List<byte>(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '%')
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(text[i].ToString()));
                continue;
            }

            if (i + 2 >= text.Length || !byte.TryParse(text.AsSpan(i + 1, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var value))
            {
                throw Malformed($"{what} has a '%' that is not followed by two hexadecimal digits (write a literal '%' as %25)");
            }

            if (value == 0)
            {
                throw Malformed($"{what} contains %00, which libpq forbids");
            }

            bytes.Add(value);
            i += 2;
        }

        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString([.. bytes]);
        }
        catch (DecoderFallbackException)
        {
            throw Malformed($"{what} is not valid UTF-8 once percent-decoded");
        }
    }

    private static int Integer(string name, string value) =>
        int.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var number) ? number : throw Invalid(name, "a whole number");

    private static string? NullIfEmpty(string value) => value.Length == 0 ? null : value;

    /// <summary>A parameter's name, when it looks like one (a malformed URI may put part of its password where a name goes).</summary>
    private static string Named(string name) =>
        name.Length is > 0 and <= 40 && name.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_')
            ? name
            : "(a name that is not a libpq parameter's)";

    /// <summary>The choice <paramref name="value"/> names, else an error listing the choices (never the value).</summary>
    private static T OneOf<T>(string name, string value, params (string Text, T Value)[] choices)
    {
        foreach (var (text, choice) in choices)
        {
            if (text == value)
            {
                return choice;
            }
        }

        var names = choices.Select(c => c.Text).ToList();
        throw Invalid(name, $"{string.Join(", ", names[..^1])} or {names[^1]}");
    }

    private static ConfigurationException Invalid(string name, string expected) => Malformed($"the value of {name} is not valid: use {expected}");

    private static ConfigurationException Malformed(string what) => new(what);
}
