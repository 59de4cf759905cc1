using System.Security.Cryptography;
using System.Text;

namespace IamVet.Schema.Runner.Postgres;

/// <summary>SQL identifier quoting and naming. Every identifier the runner builds into SQL goes through here.</summary>
public static class Identifiers
{
    /// <summary>
    /// The longest identifier PostgreSQL keeps, in bytes (NAMEDATALEN - 1): a longer one is cut
    /// there with only a NOTICE, so the object created is not the one asked for by name.
    /// </summary>
    public const int MaxBytes = 63;

    /// <summary>Double-quotes <paramref name="name"/> (camelCase survives, quotes are doubled).</summary>
    public static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    /// <summary>Whether PostgreSQL keeps <paramref name="name"/> as it is.</summary>
    public static bool Fits(string name) => Encoding.UTF8.GetByteCount(name) <= MaxBytes;

    /// <summary>
    /// <paramref name="name"/> followed by <paramref name="suffix"/> (e.g. <c>_restore_20261129…</c>),
    /// as PostgreSQL will keep it: when the two are too long together, the name is shortened and
    /// marked with a hash of the whole of it, so two long names that share a beginning still get
    /// different derived names, and the suffix (which says what the object is) stays whole.
    /// </summary>
    public static string Derived(string name, string suffix)
    {
        var whole = name + suffix;
        if (Fits(whole))
        {
            return whole;
        }

        var mark = "_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)))[..8];
        var room = MaxBytes - Encoding.UTF8.GetByteCount(mark + suffix);
        var kept = new StringBuilder();
        foreach (var rune in name.EnumerateRunes())
        {
            if (Encoding.UTF8.GetByteCount(kept.ToString()) + rune.Utf8SequenceLength > room)
            {
                break;
            }

            kept.Append(rune.ToString());
        }

        return kept + mark + suffix;
    }
}
