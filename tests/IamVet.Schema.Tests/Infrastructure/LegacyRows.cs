namespace IamVet.Schema.Tests.Infrastructure;

/// <summary>A legacy users row with plausible defaults; tests override what they assert on.</summary>
public sealed record LegacyUser(string Id, string UserType)
{
    public string Email { get; init; } = $"{Id}@iamvet.test";
    public string Phone { get; init; } = $"010-{Math.Abs(Id.GetHashCode(StringComparison.Ordinal)) % 10000:D4}-{Id.Length:D4}-{Id}";
    public string? PasswordHash { get; init; } = "$2b$10$abcdefghijklmnopqrstuv";
    public string? ProfileImage { get; init; }
    public string Provider { get; init; } = "NORMAL";
    public bool IsActive { get; init; } = true;
    public DateTime TermsAgreedAt { get; init; } = new(2024, 3, 1, 9, 0, 0, 123);
    public DateTime PrivacyAgreedAt { get; init; } = new(2024, 3, 1, 9, 0, 0, 123);
    public DateTime? MarketingAgreedAt { get; init; }
    public DateTime? DeletedAt { get; init; }
    public string? WithdrawReason { get; init; }
    public DateTime? RestoredAt { get; init; }
    public DateTime CreatedAt { get; init; } = new(2024, 3, 1, 9, 0, 0, 123);
    public DateTime UpdatedAt { get; init; } = new(2024, 6, 1, 12, 30, 0, 456);
    public string RealName { get; init; } = "김수의";
    public DateTime? BirthDate { get; init; }
    public string? BusinessNumber { get; init; }
    public DateTime? EstablishedDate { get; init; }
    public string? HospitalAddress { get; init; }
    public string? HospitalAddressDetail { get; init; }
    public string? HospitalLogo { get; init; }
    public string? HospitalName { get; init; }
    public string? HospitalWebsite { get; init; }
    public DateTime? LastLoginAt { get; init; }
    public string? LicenseImage { get; init; }
    public string? LoginId { get; init; }
    public string? Nickname { get; init; }
    public string? UniversityEmail { get; init; }
}

public sealed record LegacyAnimal(string Id, string UserId, string AnimalType, DateTime CreatedAt);

public sealed record LegacySpecialty(string Id, string UserId, string Specialty, DateTime CreatedAt);

public sealed record LegacyImage(string Id, string UserId, string ImageUrl, int DisplayOrder, DateTime CreatedAt, DateTime UpdatedAt);

public sealed record LegacyLicense(string Id, string UserId, string FileName, string FileUrl, string FileType, DateTime UploadedAt, int? FileSize);

/// <summary>Inserts legacy rows with parameters (no SQL built from values).</summary>
public static class LegacyRows
{
    /// <summary>
    /// Inserts h1 (행복동물병원) and h2 (튼튼병원): two active hospitals with nothing but a name, the
    /// owners of the side rows a test then adds.
    /// </summary>
    public static Task InsertTwoHospitalsAsync(TestDatabase database) => InsertAsync(database,
        new LegacyUser("h1", "HOSPITAL") { HospitalName = "행복동물병원" },
        new LegacyUser("h2", "HOSPITAL") { HospitalName = "튼튼병원" });

    public static async Task InsertAsync(TestDatabase database, params object[] rows)
    {
        await using var connection = await database.OpenAsync();
        foreach (var row in rows)
        {
            await using var command = row switch
            {
                LegacyUser u => Command(connection, """
                    INSERT INTO users (id, email, phone, "passwordHash", "profileImage", "userType", provider, "isActive",
                        "termsAgreedAt", "privacyAgreedAt", "marketingAgreedAt", "deletedAt", "withdrawReason", "restoredAt",
                        "createdAt", "updatedAt", "realName", "birthDate", "businessNumber", "establishedDate", "hospitalAddress",
                        "hospitalAddressDetail", "hospitalLogo", "hospitalName", "hospitalWebsite", "lastLoginAt", "licenseImage",
                        "loginId", nickname, "universityEmail")
                    VALUES (@p0, @p1, @p2, @p3, @p4, @p5::"UserType", @p6::"Provider", @p7, @p8, @p9, @p10, @p11, @p12, @p13,
                        @p14, @p15, @p16, @p17, @p18, @p19, @p20, @p21, @p22, @p23, @p24, @p25, @p26, @p27, @p28, @p29)
                    """,
                    u.Id, u.Email, u.Phone, u.PasswordHash, u.ProfileImage, u.UserType, u.Provider, u.IsActive,
                    u.TermsAgreedAt, u.PrivacyAgreedAt, u.MarketingAgreedAt, u.DeletedAt, u.WithdrawReason, u.RestoredAt,
                    u.CreatedAt, u.UpdatedAt, u.RealName, u.BirthDate, u.BusinessNumber, u.EstablishedDate, u.HospitalAddress,
                    u.HospitalAddressDetail, u.HospitalLogo, u.HospitalName, u.HospitalWebsite, u.LastLoginAt, u.LicenseImage,
                    u.LoginId, u.Nickname, u.UniversityEmail),
                LegacyAnimal a => Command(connection,
                    """INSERT INTO hospital_animals (id, "userId", "animalType", "createdAt") VALUES (@p0, @p1, @p2, @p3)""",
                    a.Id, a.UserId, a.AnimalType, a.CreatedAt),
                LegacySpecialty s => Command(connection,
                    """INSERT INTO hospital_specialties (id, "userId", specialty, "createdAt") VALUES (@p0, @p1, @p2, @p3)""",
                    s.Id, s.UserId, s.Specialty, s.CreatedAt),
                LegacyImage i => Command(connection,
                    """INSERT INTO hospital_facility_images (id, "userId", "imageUrl", "displayOrder", "createdAt", "updatedAt") VALUES (@p0, @p1, @p2, @p3, @p4, @p5)""",
                    i.Id, i.UserId, i.ImageUrl, i.DisplayOrder, i.CreatedAt, i.UpdatedAt),
                LegacyLicense l => Command(connection,
                    """INSERT INTO hospital_business_licenses (id, "userId", "fileName", "fileUrl", "fileType", "uploadedAt", "fileSize") VALUES (@p0, @p1, @p2, @p3, @p4, @p5, @p6)""",
                    l.Id, l.UserId, l.FileName, l.FileUrl, l.FileType, l.UploadedAt, l.FileSize),
                _ => throw new ArgumentException($"not a legacy row: {row.GetType().Name}", nameof(rows)),
            };
            await command.ExecuteNonQueryAsync();
        }
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, params object?[] values)
    {
        var command = new NpgsqlCommand(sql, connection);
        for (var i = 0; i < values.Length; i++)
        {
            var parameter = new NpgsqlParameter($"p{i}", values[i] ?? DBNull.Value);
            if (values[i] is DateTime)
            {
                parameter.NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Timestamp;
            }

            command.Parameters.Add(parameter);
        }

        return command;
    }
}
