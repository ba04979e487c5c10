namespace Proxy.Shared.Config;

/// <summary>HAProxy's `haproxy -cc CONDITION`: a conditional block's condition (ConditionalBlocks) evaluated alone.</summary>
public static class ConfigCondition
{
    /// <summary>The condition's value, or the error that stops it from having one.</summary>
    public static (bool Value, string? Error) Evaluate(string condition, Func<string, string?> env)
    {
        var diag = new ConfigDiagnostics("-cc");
        var lines = ConfigTokenizer.Tokenize("x " + condition + "\n", env, diag);
        if (diag.HasErrors || lines.Count != 1) return (false, diag.HasErrors ? diag.Errors[0].Message : "empty condition");
        bool value = new ConditionalBlocks(diag, env).Evaluate(lines[0] with { Words = [".if", .. lines[0].Words.Skip(1)] });
        return diag.HasErrors ? (false, diag.Errors[0].Message) : (value, null);
    }
}
