using CsCheck;

namespace IamVet.Schema.Tests.Properties;

/// <summary>
/// CsCheck generators for legacy data that the normalization must carry over and give back exactly:
/// Korean text (Hangul names, addresses, jamo, emoji), NULL in every nullable column, maximum lengths
/// (varchar(100) loginId and nickname at exactly 100 characters, long text), millisecond timestamps
/// (timestamp(3)) and microsecond ones (lastLoginAt, timestamp(6)), every user type, inactive and withdrawn
/// users, and the dirty data the migrations must tolerate: duplicate animal types and specialties per
/// hospital, facility images all at displayOrder 0, several or no business licences, side rows of users who
/// are not hospitals, veterinarians and students carrying hospital (or other foreign) columns.
/// Never the blocking kind: every HOSPITAL has a hospitalName, and the unique columns (id, email, phone,
/// loginId, businessNumber, universityEmail) are unique because each embeds the user's position.
/// </summary>
public static class LegacyDataGen
{
    public const int MaxUsers = 40;

    // ---- text ---------------------------------------------------------------------------------------

    private static readonly Gen<char> Syllable = Gen.Char['가', '힣'];
    private static readonly Gen<char> Jamo = Gen.Char['ㄱ', 'ㆎ'];
    private static readonly Gen<char> Printable = Gen.Char[' ', '~']; // includes ' " \ % _ which SQL text must survive

    /// <summary>One UTF-16 unit per character (no surrogates), so a C# length of 100 is 100 PostgreSQL characters.</summary>
    private static readonly Gen<char> BmpChar = Gen.Frequency((6, Syllable), (3, Printable), (1, Jamo));

    private static readonly Gen<string> TextUnit = Gen.Frequency(
        (12, Syllable.Select(c => new string(c, 1))),
        (6, Printable.Select(c => new string(c, 1))),
        (1, Jamo.Select(c => new string(c, 1))),
        (1, Gen.OneOfConst("\n", "\t", "\r\n", "😀", "🐶", "🐈", "動物病院", "é", "\u1112\u1161\u11AB", "\u00A0", "\u200B")));

    private static Gen<string> Text(int min, int max) => TextUnit.Array[min, max].Select(string.Concat);

    private static readonly Gen<string> LongText = Text(1_000, 3_000);

    private static Gen<string> Exactly(int length) => Gen.String[BmpChar, length, length];

    private static Gen<string?> Nullable(Gen<string> value, int nullWeight = 1, int valueWeight = 2) =>
        Gen.Frequency((nullWeight, Gen.Const((string?)null)), (valueWeight, value.Select(s => (string?)s)));

    private static Gen<DateTime?> Nullable(Gen<DateTime> value, int nullWeight = 1, int valueWeight = 2) =>
        Gen.Frequency((nullWeight, Gen.Const((DateTime?)null)), (valueWeight, value.Select(d => (DateTime?)d)));

    /// <summary>Mostly the typical value, sometimes thousands of characters.</summary>
    private static Gen<string> SometimesLong(Gen<string> typical) => Gen.Frequency((9, typical), (1, LongText));

    private static readonly Gen<string> KoreanName = Gen.Select(
        Gen.OneOfConst("김", "이", "박", "최", "정", "강", "조", "윤", "장", "임", "남궁", "황보", "제갈"),
        Gen.String[Syllable, 1, 3],
        (surname, given) => surname + given);

    private static readonly Gen<string> RealName = Gen.Frequency(
        (20, KoreanName),
        (2, Gen.OneOfConst("John Smith", "O'Brien", "Nguyễn Ngọc Anh", "", "김 수의 ")),
        (1, LongText));

    private static readonly Gen<string> HospitalName = SometimesLong(Gen.Select(
        Gen.String[Syllable, 1, 5],
        Gen.OneOfConst("동물병원", " 동물의료센터", "종합동물병원", " 24시 동물메디컬센터", " Animal Hospital", ""),
        (name, kind) => name + kind));

    private static readonly Gen<string> Address = SometimesLong(Gen.Select(
        Gen.OneOfConst("서울특별시 강남구", "부산광역시 해운대구", "경기도 성남시 분당구", "제주특별자치도 제주시", "대전광역시 유성구"),
        Gen.String[Syllable, 1, 4],
        Gen.OneOfConst("로", "길", "대로", "번길"),
        Gen.Int[1, 999],
        (city, road, kind, number) => $"{city} {road}{kind} {number}"));

    private static readonly Gen<string> AddressDetail = Gen.Frequency(
        (3, Gen.Select(Gen.Int[1, 20], Gen.Int[101, 1999], (floor, room) => $"{floor}층 {room}호")),
        (2, Text(0, 20)),
        (1, LongText));

    private static readonly Gen<string> Url = Gen.Select(
        Gen.OneOfConst("https://cdn.iamvet.kr", "https://iamvet.s3.ap-northeast-2.amazonaws.com", "http://localhost:3000/uploads"),
        Gen.OneOfConst("logos", "licenses", "profiles", "facility", "business"),
        Gen.Frequency((3, Gen.String[Gen.Char.AlphaNumeric, 1, 24]), (1, Gen.String[Syllable, 1, 8])),
        Gen.OneOfConst("png", "jpg", "jpeg", "webp", "pdf", "PDF"),
        (host, folder, name, extension) => $"{host}/{folder}/{name}.{extension}");

    private static readonly Gen<string> Website = Gen.Frequency(
        (3, Gen.String[Gen.Char['a', 'z'], 3, 16].Select(name => $"https://www.{name}.co.kr")),
        (1, Gen.String[Syllable, 2, 6].Select(name => $"https://{name}.kr")),
        (1, Text(0, 30)));

    private static readonly Gen<string> PasswordHash = Gen.String[Gen.Char["./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"], 53, 53]
        .Select(hash => "$2b$10$" + hash);

    // ---- timestamps ---------------------------------------------------------------------------------

    /// <summary>timestamp(3): whole milliseconds.</summary>
    private static Gen<DateTime> Millis(int fromYear, int toYear) =>
        Gen.Long[new DateTime(fromYear, 1, 1).Ticks / TimeSpan.TicksPerMillisecond,
                 new DateTime(toYear, 12, 31, 23, 59, 59, 999).Ticks / TimeSpan.TicksPerMillisecond]
            .Select(ms => new DateTime(ms * TimeSpan.TicksPerMillisecond));

    /// <summary>timestamp(6): whole microseconds.</summary>
    private static Gen<DateTime> Micros(int fromYear, int toYear) =>
        Gen.Long[new DateTime(fromYear, 1, 1).Ticks / TimeSpan.TicksPerMicrosecond,
                 new DateTime(toYear, 12, 31, 23, 59, 59, 999).Ticks / TimeSpan.TicksPerMicrosecond]
            .Select(us => new DateTime(us * TimeSpan.TicksPerMicrosecond));

    /// <summary>Side-row times that often tie, so the id tie-breaks of the migrations' orderings are exercised.</summary>
    private static readonly Gen<DateTime> SideTime = Gen.Frequency(
        (2, Gen.OneOfConst(new DateTime(2024, 3, 1, 9, 0, 0, 123), new DateTime(2024, 3, 1, 9, 0, 0, 124), new DateTime(2025, 1, 1))),
        (3, Millis(2019, 2026)));

    // ---- one user and its side rows -----------------------------------------------------------------

    private sealed record Withdrawal(DateTime? DeletedAt, string? Reason, DateTime? RestoredAt);

    private sealed record Account(string UserType, string Provider, bool IsActive, Withdrawal Withdrawal, string? PasswordHash, string? ProfileImage);

    private sealed record Times(DateTime TermsAgreedAt, DateTime PrivacyAgreedAt, DateTime? MarketingAgreedAt, DateTime CreatedAt, DateTime UpdatedAt, DateTime? LastLoginAt);

    /// <summary>The random parts of the unique columns; <see cref="Assemble"/> adds the user's position.</summary>
    private sealed record Keys(string IdPrefix, string IdSuffix, string EmailLocal, string EmailDomain, string PhoneTail, string? LoginIdBody, string? BusinessNumberTail, string? UniversityEmailLocal);

    private sealed record Profile(string RealName, DateTime? BirthDate, string? Nickname, string? LicenseImage);

    private sealed record Hospital(string HospitalName, DateTime? EstablishedDate, string? Address, string? AddressDetail, string? Logo, string? Website);

    private sealed record AnimalDraft(string IdPrefix, string AnimalType, DateTime CreatedAt);

    private sealed record SpecialtyDraft(string IdPrefix, string Specialty, DateTime CreatedAt);

    private sealed record ImageDraft(string IdPrefix, string ImageUrl, int DisplayOrder, DateTime CreatedAt, DateTime UpdatedAt);

    private sealed record LicenseDraft(string IdPrefix, string FileName, string FileUrl, string FileType, DateTime UploadedAt, int? FileSize);

    private enum ImageOrdering
    {
        AllZero,
        AsGenerated,
        Sequential,
    }

    private sealed record Sides(AnimalDraft[] Animals, SpecialtyDraft[] Specialties, ImageDraft[] Images, ImageOrdering Ordering, LicenseDraft[] Licenses);

    /// <summary>
    /// <see cref="KeepForeignColumns"/>: the user keeps columns of another type (a vet with a hospitalName, a
    /// student with a licenseImage). <see cref="KeepSideRowsIfNotHospital"/>: a user who is not a hospital
    /// still owns hospital side rows (rarer than for hospitals, so most side rows exercise the moves).
    /// </summary>
    private sealed record UserDraft(Account Account, Times Times, Keys Keys, Profile Profile, Hospital Hospital, Sides Sides, bool KeepForeignColumns, bool KeepSideRowsIfNotHospital);

    private static readonly Gen<Withdrawal> WithdrawalGen = Gen.Frequency(
        (6, Gen.Const(new Withdrawal(null, null, null))),
        (2, Gen.Select(Millis(2020, 2026), Nullable(SometimesLong(Text(1, 40))), (deletedAt, reason) => new Withdrawal(deletedAt, reason, null))),
        (1, Gen.Select(Millis(2020, 2026), Nullable(Text(1, 40)), Millis(2020, 2026), (deletedAt, reason, restoredAt) => new Withdrawal(deletedAt, reason, restoredAt))));

    private static readonly Gen<Account> AccountGen = Gen.Select(
        Gen.OneOfConst("VETERINARIAN", "HOSPITAL", "VETERINARY_STUDENT"),
        Gen.OneOfConst("NORMAL", "GOOGLE", "KAKAO", "NAVER"),
        Gen.Frequency((3, Gen.Const(true)), (1, Gen.Const(false))),
        WithdrawalGen,
        Nullable(PasswordHash),
        Nullable(SometimesLong(Url)),
        (type, provider, active, withdrawal, hash, image) => new Account(type, provider, active, withdrawal, hash, image));

    private static readonly Gen<Times> TimesGen = Gen.Select(
        Millis(2019, 2026), Millis(2019, 2026), Nullable(Millis(2019, 2026)), Millis(2019, 2026), Millis(2019, 2026), Nullable(Micros(2020, 2027)),
        (terms, privacy, marketing, created, updated, lastLogin) => new Times(terms, privacy, marketing, created, updated, lastLogin));

    /// <summary>loginId: NULL, short, or a body that makes it exactly 100 characters with the 3-digit position in front.</summary>
    private static readonly Gen<string?> LoginIdBody = Gen.Frequency(
        (2, Gen.Const((string?)null)),
        (3, Gen.Frequency((3, Gen.String[Gen.Char.AlphaNumeric, 1, 20]), (1, Gen.String[Syllable, 1, 10])).Select(s => (string?)s)),
        (1, Exactly(97).Select(s => (string?)s)));

    private static readonly Gen<Keys> KeysGen = Gen.Select(
        Gen.OneOfConst("", "c", "cm", "user_", "hta_", "vet_", "사용자-", "a%b\\_"),
        Gen.Frequency((3, Gen.String[Gen.Char.AlphaNumeric, 0, 22]), (1, Gen.Const("-" + "ffffffff-ffff-4fff-8fff-ffffffffffff"))),
        Gen.Frequency((3, Gen.String[Gen.Char['a', 'z'], 1, 16]), (1, Gen.String[Syllable, 1, 6])),
        Gen.OneOfConst("iamvet.test", "gmail.com", "naver.com", "kakao.com", "한국.kr"),
        Gen.String[Gen.Char['0', '9'], 4, 4],
        LoginIdBody,
        Nullable(Gen.Select(Gen.Int[10, 99], Gen.Int[0, 99999], (a, b) => $"{a:D2}-{b:D5}"), 1, 2),
        Nullable(Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyz._"], 1, 12]),
        (prefix, suffix, local, domain, phone, login, business, university) => new Keys(prefix, suffix, local, domain, phone, login, business, university));

    private static readonly Gen<string?> Nickname = Gen.Frequency(
        (2, Gen.Const((string?)null)),
        (4, Gen.Frequency((3, Gen.String[Syllable, 1, 8]), (1, Text(0, 20))).Select(s => (string?)s)),
        (1, Exactly(100).Select(s => (string?)s)));

    private static readonly Gen<Profile> ProfileGen = Gen.Select(
        RealName, Nullable(Millis(1940, 2008)), Nickname, Nullable(SometimesLong(Url)),
        (name, birth, nickname, license) => new Profile(name, birth, nickname, license));

    private static readonly Gen<Hospital> HospitalGen = Gen.Select(
        HospitalName, Nullable(Millis(1960, 2026)), Nullable(Address), Nullable(AddressDetail), Nullable(Url), Nullable(Website),
        (name, established, address, detail, logo, website) => new Hospital(name, established, address, detail, logo, website));

    private static readonly Gen<string> SideIdPrefix = Gen.OneOfConst("", "c", "cm", "hta_", "hts_", "himg_", "side-", "가_");

    private static readonly Gen<int> SideCount = Gen.Frequency((3, Gen.Const(0)), (3, Gen.Int[1, 3]), (1, Gen.Int[4, 7]));

    // Few distinct values, so duplicates per hospital are common.
    private static readonly Gen<string> AnimalType = Gen.OneOfConst("개", "고양이", "토끼", "햄스터", "조류", "파충류", "특수동물", "DOG", "cat");
    private static readonly Gen<string> Specialty = Gen.OneOfConst("내과", "외과", "정형외과", "안과", "치과", "피부과", "영상의학과", "한방", "응급의학");

    private static readonly Gen<Sides> SidesGen = Gen.Select(
        Gen.Select(SideIdPrefix, AnimalType, SideTime, (p, a, t) => new AnimalDraft(p, a, t)).Array[SideCount],
        Gen.Select(SideIdPrefix, Specialty, SideTime, (p, s, t) => new SpecialtyDraft(p, s, t)).Array[SideCount],
        Gen.Select(SideIdPrefix, SometimesLong(Url), Gen.Int[-1, 4], SideTime, SideTime, (p, u, o, c, m) => new ImageDraft(p, u, o, c, m)).Array[SideCount],
        Gen.Frequency((3, Gen.Const(ImageOrdering.AllZero)), (2, Gen.Const(ImageOrdering.AsGenerated)), (1, Gen.Const(ImageOrdering.Sequential))),
        Gen.Select(
            SideIdPrefix,
            Gen.Frequency((3, Gen.OneOfConst("사업자등록증.pdf", "business_license.png", "사업자 등록증 (사본).jpg")), (1, Text(1, 40))),
            Url,
            Gen.OneOfConst("pdf", "png", "jpg", "application/pdf", "image/jpeg"),
            SideTime,
            Gen.Frequency((1, Gen.Const((int?)null)), (3, Gen.Int[0, 20_000_000].Select(n => (int?)n))),
            (p, name, url, type, uploaded, size) => new LicenseDraft(p, name, url, type, uploaded, size)).Array[Gen.Int[0, 3]],
        (animals, specialties, images, ordering, licenses) => new Sides(animals, specialties, images, ordering, licenses));

    private static readonly Sides NoSides = new([], [], [], ImageOrdering.AllZero, []);

    private static readonly Gen<UserDraft> UserDraftGen = Gen.Select(
        AccountGen, TimesGen, KeysGen, ProfileGen, HospitalGen, SidesGen,
        Gen.Frequency((3, Gen.Const(false)), (1, Gen.Const(true))),
        Gen.Frequency((2, Gen.Const(false)), (1, Gen.Const(true))),
        (account, times, keys, profile, hospital, sides, foreign, foreignSides) => new UserDraft(account, times, keys, profile, hospital, sides, foreign, foreignSides));

    /// <summary>0..<see cref="MaxUsers"/> users with their side rows; CsCheck shrinks towards fewer users and rows.</summary>
    public static readonly Gen<LegacyDataSet> DataSet = Gen.Select(UserDraftGen.Array[0, MaxUsers], NewApplicationWrites.Generator,
        (drafts, writes) => Assemble(drafts) with { Writes = writes });

    /// <summary>
    /// Turns drafts into rows: unique columns get the user's (or side row's) position, type-specific
    /// columns stay with their type unless the draft keeps foreign columns, and a HOSPITAL always has
    /// its hospitalName.
    /// </summary>
    private static LegacyDataSet Assemble(UserDraft[] drafts)
    {
        var users = new List<LegacyUser>(drafts.Length);
        var animals = new List<LegacyAnimal>();
        var specialties = new List<LegacySpecialty>();
        var images = new List<LegacyImage>();
        var licenses = new List<LegacyLicense>();
        for (var i = 0; i < drafts.Length; i++)
        {
            var (account, times, keys, profile, hospital, allSides, foreign, foreignSides) = drafts[i];
            var isHospital = account.UserType == "HOSPITAL";
            var isVet = account.UserType == "VETERINARIAN";
            var isStudent = account.UserType == "VETERINARY_STUDENT";
            var hospitalColumns = isHospital || foreign;
            var sides = isHospital || foreignSides ? allSides : NoSides;
            // The prefixes hold no digit, so the 3-digit position makes every id unique.
            var id = $"{keys.IdPrefix}{i:D3}{keys.IdSuffix}";
            users.Add(new LegacyUser(id, account.UserType)
            {
                Email = $"{keys.EmailLocal}.{i:D3}@{keys.EmailDomain}",
                Phone = $"010-{i:D4}-{keys.PhoneTail}",
                PasswordHash = account.PasswordHash,
                ProfileImage = account.ProfileImage,
                Provider = account.Provider,
                IsActive = account.IsActive,
                TermsAgreedAt = times.TermsAgreedAt,
                PrivacyAgreedAt = times.PrivacyAgreedAt,
                MarketingAgreedAt = times.MarketingAgreedAt,
                DeletedAt = account.Withdrawal.DeletedAt,
                WithdrawReason = account.Withdrawal.Reason,
                RestoredAt = account.Withdrawal.RestoredAt,
                CreatedAt = times.CreatedAt,
                UpdatedAt = times.UpdatedAt,
                RealName = profile.RealName,
                BirthDate = isHospital && !foreign ? null : profile.BirthDate,
                Nickname = isHospital && !foreign ? null : profile.Nickname,
                LicenseImage = isVet || foreign ? profile.LicenseImage : null,
                UniversityEmail = (isStudent || foreign) && keys.UniversityEmailLocal is { } local ? $"{local}{i:D3}@snu.ac.kr" : null,
                LoginId = keys.LoginIdBody is { } login ? $"{i:D3}{login}" : null,
                LastLoginAt = times.LastLoginAt,
                HospitalName = hospitalColumns ? hospital.HospitalName : null,
                BusinessNumber = hospitalColumns && keys.BusinessNumberTail is { } business ? $"{i:D3}-{business}" : null,
                EstablishedDate = hospitalColumns ? hospital.EstablishedDate : null,
                HospitalAddress = hospitalColumns ? hospital.Address : null,
                HospitalAddressDetail = hospitalColumns ? hospital.AddressDetail : null,
                HospitalLogo = hospitalColumns ? hospital.Logo : null,
                HospitalWebsite = hospitalColumns ? hospital.Website : null,
            });

            foreach (var a in sides.Animals)
            {
                animals.Add(new LegacyAnimal($"{a.IdPrefix}{animals.Count:D4}", id, a.AnimalType, a.CreatedAt));
            }

            foreach (var s in sides.Specialties)
            {
                specialties.Add(new LegacySpecialty($"{s.IdPrefix}{specialties.Count:D4}", id, s.Specialty, s.CreatedAt));
            }

            for (var j = 0; j < sides.Images.Length; j++)
            {
                var image = sides.Images[j];
                var order = sides.Ordering switch
                {
                    ImageOrdering.AllZero => 0,
                    ImageOrdering.Sequential => j + 1,
                    _ => image.DisplayOrder,
                };
                images.Add(new LegacyImage($"{image.IdPrefix}{images.Count:D4}", id, image.ImageUrl, order, image.CreatedAt, image.UpdatedAt));
            }

            foreach (var l in sides.Licenses)
            {
                licenses.Add(new LegacyLicense($"{l.IdPrefix}{licenses.Count:D4}", id, l.FileName, l.FileUrl, l.FileType, l.UploadedAt, l.FileSize));
            }
        }

        return new LegacyDataSet(users, animals, specialties, images, licenses);
    }
}
