using Npgsql;

namespace IamVet.Schema.Runner.Backup;

/// <summary>
/// What a database is beyond its contents, which pg_dump of the database does not carry (pg_dumpall
/// would): its owner, its ACL (who may CONNECT, CREATE, TEMPORARY), its settings per database and
/// per role in it (<c>ALTER DATABASE … SET</c>, <c>ALTER ROLE … IN DATABASE … SET</c>), its comment and
/// its connection limit. <c>restore --replace</c> gives the restored copy all of them before it takes
/// the source's name.
/// </summary>
public sealed record DatabaseProperties(
    string Owner, IReadOnlyList<AclGrant>? Acl, IReadOnlyList<RoleSetting> Settings, string? Comment, int ConnectionLimit, bool AllowConnections)
{
    /// <summary>Settings whose value is a list: their stored text is already a valid SQL list, and must not be quoted as one string.</summary>
    private static readonly HashSet<string> ListSettings = new(StringComparer.OrdinalIgnoreCase)
    {
        "search_path", "temp_tablespaces", "session_preload_libraries", "local_preload_libraries", "shared_preload_libraries",
    };

    public static async Task<DatabaseProperties> ReadAsync(NpgsqlConnection connection, string database, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("""
            SELECT pg_get_userbyid(d.datdba)::text, shobj_description(d.oid, 'pg_database'), d.datconnlimit, d.datallowconn, d.datacl IS NULL,
                   (SELECT coalesce(array_agg(format('%s|%s|%s', CASE a.grantee WHEN 0 THEN '' ELSE pg_get_userbyid(a.grantee)::text END,
                                                     a.privilege_type, a.is_grantable)), ARRAY[]::text[])
                    FROM aclexplode(d.datacl) a),
                   (SELECT coalesce(array_agg(format('%s|%s', coalesce(r.rolname::text, ''), c.setting)), ARRAY[]::text[])
                    FROM pg_db_role_setting s LEFT JOIN pg_roles r ON r.oid = s.setrole CROSS JOIN LATERAL unnest(s.setconfig) c(setting)
                    WHERE s.setdatabase = d.oid)
            FROM pg_database d WHERE d.datname = @name
            """, connection);
        command.Parameters.AddWithValue("name", database);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new BackupException($"database \"{database}\" does not exist");
        }

        var acl = reader.GetBoolean(4)
            ? null
            : reader.GetFieldValue<string[]>(5).Select(item => item.Split('|')).Select(p => new AclGrant(p[0], p[1], p[2] == "true")).ToList();
        var settings = reader.GetFieldValue<string[]>(6).Select(item => item.Split('|', 2))
            .Select(p => (Role: p[0], Setting: p[1].Split('=', 2)))
            .Select(p => new RoleSetting(p.Role.Length == 0 ? null : p.Role, p.Setting[0], p.Setting.Length > 1 ? p.Setting[1] : ""))
            .ToList();
        return new DatabaseProperties(reader.GetString(0), acl, settings, reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt32(2), reader.GetBoolean(3));
    }

    /// <summary>Gives <paramref name="database"/> these properties (its own ACL and settings are replaced).</summary>
    public async Task ApplyToAsync(NpgsqlConnection connection, string database, CancellationToken cancellationToken)
    {
        var name = Identifiers.Quote(database);
        var statements = new List<string> { $"ALTER DATABASE {name} OWNER TO {Identifiers.Quote(Owner)}" };
        if (Acl is not null)
        {
            // The source's ACL exactly: nothing from the default (PUBLIC's CONNECT and TEMPORARY) unless the source grants it.
            statements.Add($"REVOKE ALL ON DATABASE {name} FROM PUBLIC");
            statements.Add($"REVOKE ALL ON DATABASE {name} FROM {Identifiers.Quote(Owner)}");
            statements.AddRange(Acl.Select(grant =>
                $"GRANT {grant.Privilege} ON DATABASE {name} TO {(grant.Grantee.Length == 0 ? "PUBLIC" : Identifiers.Quote(grant.Grantee))}{(grant.Grantable ? " WITH GRANT OPTION" : "")}"));
        }

        statements.AddRange(Settings.Select(setting =>
            $"ALTER {(setting.Role is null ? "" : $"ROLE {Identifiers.Quote(setting.Role)} IN ")}DATABASE {name} SET {Identifiers.Quote(setting.Name)} = " +
            (ListSettings.Contains(setting.Name) ? setting.Value : Literal(setting.Value))));
        statements.Add($"COMMENT ON DATABASE {name} IS {(Comment is null ? "NULL" : Literal(Comment))}");
        statements.Add($"ALTER DATABASE {name} WITH CONNECTION LIMIT {ConnectionLimit}");
        foreach (var statement in statements)
        {
            await Sql.ExecuteAsync(connection, statement, cancellationToken);
        }
    }

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";
}

/// <summary>One privilege of a database's ACL: <see cref="Grantee"/> empty for PUBLIC.</summary>
public sealed record AclGrant(string Grantee, string Privilege, bool Grantable);

/// <summary>One setting of a database (<see cref="Role"/> null) or of a role in it.</summary>
public sealed record RoleSetting(string? Role, string Name, string Value);
