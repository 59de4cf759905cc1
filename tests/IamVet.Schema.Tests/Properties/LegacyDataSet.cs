using System.Reflection;
using NpgsqlTypes;

namespace IamVet.Schema.Tests.Properties;

/// <summary>One generated legacy database: users and the rows of the four hospital side tables.</summary>
public sealed record LegacyDataSet(
    IReadOnlyList<LegacyUser> Users,
    IReadOnlyList<LegacyAnimal> Animals,
    IReadOnlyList<LegacySpecialty> Specialties,
    IReadOnlyList<LegacyImage> Images,
    IReadOnlyList<LegacyLicense> Licenses)
{
    private const string InsertUser = """
        INSERT INTO users (id, email, phone, "passwordHash", "profileImage", "userType", provider, "isActive",
            "termsAgreedAt", "privacyAgreedAt", "marketingAgreedAt", "deletedAt", "withdrawReason", "restoredAt",
            "createdAt", "updatedAt", "realName", "birthDate", "businessNumber", "establishedDate", "hospitalAddress",
            "hospitalAddressDetail", "hospitalLogo", "hospitalName", "hospitalWebsite", "lastLoginAt", "licenseImage",
            "loginId", nickname, "universityEmail")
        VALUES ($1, $2, $3, $4, $5, $6::"UserType", $7::"Provider", $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18,
            $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30)
        """;

    private const string InsertAnimal = """INSERT INTO hospital_animals (id, "userId", "animalType", "createdAt") VALUES ($1, $2, $3, $4)""";
    private const string InsertSpecialty = """INSERT INTO hospital_specialties (id, "userId", specialty, "createdAt") VALUES ($1, $2, $3, $4)""";
    private const string InsertImage = """INSERT INTO hospital_facility_images (id, "userId", "imageUrl", "displayOrder", "createdAt", "updatedAt") VALUES ($1, $2, $3, $4, $5, $6)""";
    private const string InsertLicense = """INSERT INTO hospital_business_licenses (id, "userId", "fileName", "fileUrl", "fileType", "uploadedAt", "fileSize") VALUES ($1, $2, $3, $4, $5, $6, $7)""";

    /// <summary>What the new application writes after the up, before the round trip through a rollback (<see cref="NewApplicationWrites"/>).</summary>
    public NewApplicationWrites Writes { get; init; } = NewApplicationWrites.None;

    public int SideRows => Animals.Count + Specialties.Count + Images.Count + Licenses.Count;

    /// <summary>
    /// Inserts every row in one round trip (an <see cref="NpgsqlBatch"/>, users first), each value a typed
    /// parameter: NULLs keep their column type and timestamps go in as <c>timestamp</c> without time zone.
    /// </summary>
    public async Task InsertAsync(NpgsqlConnection connection)
    {
        await using var batch = new NpgsqlBatch(connection);
        foreach (var u in Users)
        {
            batch.BatchCommands.Add(Command(InsertUser,
                Text(u.Id), Text(u.Email), Text(u.Phone), Text(u.PasswordHash), Text(u.ProfileImage), Text(u.UserType), Text(u.Provider),
                Bool(u.IsActive), Time(u.TermsAgreedAt), Time(u.PrivacyAgreedAt), Time(u.MarketingAgreedAt), Time(u.DeletedAt),
                Text(u.WithdrawReason), Time(u.RestoredAt), Time(u.CreatedAt), Time(u.UpdatedAt), Text(u.RealName), Time(u.BirthDate),
                Text(u.BusinessNumber), Time(u.EstablishedDate), Text(u.HospitalAddress), Text(u.HospitalAddressDetail),
                Text(u.HospitalLogo), Text(u.HospitalName), Text(u.HospitalWebsite), Time(u.LastLoginAt), Text(u.LicenseImage),
                Text(u.LoginId), Text(u.Nickname), Text(u.UniversityEmail)));
        }

        foreach (var a in Animals)
        {
            batch.BatchCommands.Add(Command(InsertAnimal, Text(a.Id), Text(a.UserId), Text(a.AnimalType), Time(a.CreatedAt)));
        }

        foreach (var s in Specialties)
        {
            batch.BatchCommands.Add(Command(InsertSpecialty, Text(s.Id), Text(s.UserId), Text(s.Specialty), Time(s.CreatedAt)));
        }

        foreach (var i in Images)
        {
            batch.BatchCommands.Add(Command(InsertImage,
                Text(i.Id), Text(i.UserId), Text(i.ImageUrl), Int(i.DisplayOrder), Time(i.CreatedAt), Time(i.UpdatedAt)));
        }

        foreach (var l in Licenses)
        {
            batch.BatchCommands.Add(Command(InsertLicense,
                Text(l.Id), Text(l.UserId), Text(l.FileName), Text(l.FileUrl), Text(l.FileType), Time(l.UploadedAt), Int(l.FileSize)));
        }

        if (batch.BatchCommands.Count > 0)
        {
            await batch.ExecuteNonQueryAsync();
        }
    }

    /// <summary>Counts per user type and state, and side rows per table: one line.</summary>
    public string Summary()
    {
        var types = string.Join(", ", Users.GroupBy(u => u.UserType).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key} {g.Count()}"));
        return $"{Users.Count} users ({(Users.Count == 0 ? "none" : types)}; inactive {Users.Count(u => !u.IsActive)}, withdrawn {Users.Count(u => u.DeletedAt is not null)}), " +
               $"side rows: animals {Animals.Count}, specialties {Specialties.Count}, images {Images.Count}, licenses {Licenses.Count}; {Writes.Summary()}";
    }

    /// <summary>
    /// The summary, then every row with its non-NULL values (long text shortened to its start and length),
    /// at most <paramref name="maxRowsPerTable"/> rows per table.
    /// </summary>
    public string Describe(int maxRowsPerTable = int.MaxValue)
    {
        var text = new StringBuilder(Summary());
        AppendRows(text, "users", Users, maxRowsPerTable);
        AppendRows(text, "hospital_animals", Animals, maxRowsPerTable);
        AppendRows(text, "hospital_specialties", Specialties, maxRowsPerTable);
        AppendRows(text, "hospital_facility_images", Images, maxRowsPerTable);
        AppendRows(text, "hospital_business_licenses", Licenses, maxRowsPerTable);
        return text.ToString();
    }

    public override string ToString() => Summary();

    private static void AppendRows<T>(StringBuilder text, string table, IReadOnlyList<T> rows, int max)
    {
        if (rows.Count == 0)
        {
            return;
        }

        text.Append('\n').Append(table).Append(':');
        var properties = typeof(T).GetProperties(BindingFlags.Public | BindingFlags.Instance);
        foreach (var row in rows.Take(max))
        {
            text.Append("\n  ").AppendJoin(", ", properties
                .Select(p => (p.Name, Value: p.GetValue(row)))
                .Where(p => p.Value is not null)
                .Select(p => $"{p.Name}={Show(p.Value!)}"));
        }

        if (rows.Count > max)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n  … {rows.Count - max} more");
        }
    }

    private static string Show(object value) => value switch
    {
        string s when s.Length > 32 => $"{Quote(s[..12])}…({s.Length} chars)",
        string s => Quote(s),
        DateTime d => d.ToString("yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private static string Quote(string s) =>
        "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal)
            .Replace("\t", "\\t", StringComparison.Ordinal) + "\"";

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter Time(DateTime? value) => new() { NpgsqlDbType = NpgsqlDbType.Timestamp, Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter Int(int? value) => new() { NpgsqlDbType = NpgsqlDbType.Integer, Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter Bool(bool value) => new() { NpgsqlDbType = NpgsqlDbType.Boolean, Value = value };
}
