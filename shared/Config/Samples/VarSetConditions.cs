namespace Proxy.Shared.Config;

/// <summary>
/// The conditions of `set-var(NAME,COND...)` (HAProxy 2.6, 7.3.1 "set-var", and the set-var actions of 4.2): the
/// variable is set only when every one holds. Exists: set-var created it (unset-var removes it) or it is a `proc.`
/// one, which exist from the configuration on; set: it has a value; empty: a string or binary of no bytes (a scalar is
/// never empty); gt/lt: the variable's integer is greater/less than the new one (true unless both are integers).
/// </summary>
[Flags]
public enum VarSetConditions : ushort
{
    None = 0,
    IfExists = 1, IfNotExists = 2, IfEmpty = 4, IfNotEmpty = 8, IfSet = 16, IfNotSet = 32, IfGt = 64, IfLt = 128,
}

internal static class VarSetConditionsParser
{
    /// <summary>
    /// `NAME[,COND...]`: the name, and the conditions after it (an empty one is skipped, as HAProxy does); false with
    /// <paramref name="error"/> (HAProxy's words) for an unknown condition.
    /// </summary>
    public static bool TrySplit(string text, out string name, out VarSetConditions conditions, out string? error)
    {
        var parts = text.Split(',');
        name = parts[0];
        conditions = VarSetConditions.None;
        error = null;
        for (int i = 1; i < parts.Length; i++)
        {
            if (parts[i].Length == 0) continue;
            if (!TryParse(parts[i], out var c))
            {
                error = $"unknown condition \"{parts[i]}\"";
                return false;
            }
            conditions |= c;
        }
        return true;
    }

    public static bool TryParse(string word, out VarSetConditions condition)
    {
        condition = word switch
        {
            "ifexists" => VarSetConditions.IfExists,
            "ifnotexists" => VarSetConditions.IfNotExists,
            "ifempty" => VarSetConditions.IfEmpty,
            "ifnotempty" => VarSetConditions.IfNotEmpty,
            "ifset" => VarSetConditions.IfSet,
            "ifnotset" => VarSetConditions.IfNotSet,
            "ifgt" => VarSetConditions.IfGt,
            "iflt" => VarSetConditions.IfLt,
            _ => VarSetConditions.None,
        };
        return condition != VarSetConditions.None;
    }
}
