using System.Buffers;
using System.Buffers.Text;
using System.Text;
using System.Text.RegularExpressions;
using Proxy.Shared.Config;

namespace Proxy.Worker.Samples;

/// <summary>
/// A converter compiled (doc/configuration.txt 7.3.1): arguments as bytes, variables numbered, the map's patterns
/// indexed. <see cref="TryConvert"/> reads its input sample and writes its output into the context's scratch space.
/// </summary>
internal sealed class SampleConverter
{
    private readonly SampleConverterKind _kind;
    private readonly byte[] _text;
    private readonly byte[] _text3;
    private readonly long _number;
    private readonly long _number2;
    private readonly bool _hasNumber;
    private readonly Regex? _regex;
    private readonly bool _global;
    private readonly int _mask6;
    private readonly VariableRef _variable;
    private readonly bool _hasVariable;
    private readonly PatternSet? _map;
    private readonly byte[][] _mapValues = [];
    private readonly long[] _mapInts = [];
    private readonly byte[]? _mapDefault;
    private readonly SampleType _mapOutput;
    private readonly Tables.StickSamples? _stick;

    public SampleConverter(SampleConverterStep step)
    {
        _kind = step.Kind;
        _text = step.Text is null ? [] : Encoding.UTF8.GetBytes(step.Text);
        _text3 = step.Text3 is null ? [] : Encoding.UTF8.GetBytes(step.Text3);
        _number = step.Number;
        _number2 = step.Number2;
        _hasNumber = step.HasNumber;
        _regex = step.Regex;
        _global = step.Global;
        _mask6 = step.Mask6;
        // The variable: concat's second argument, set-var's first, or the arithmetic converters' argument when not an integer.
        string? variable = step.Kind == SampleConverterKind.Concat ? step.Text2
            : step.Kind == SampleConverterKind.SetVar ? step.Text
            : step.Kind is SampleConverterKind.Add or SampleConverterKind.Sub or SampleConverterKind.Mul or SampleConverterKind.Div or SampleConverterKind.Mod && !step.HasNumber ? step.Text
            : null;
        if (variable is not null)
        {
            _variable = VariableRef.Of(variable);
            _hasVariable = true;
        }
        if (step.Kind == SampleConverterKind.StickTable) _stick = new Tables.StickSamples(step);
        if (step.Map is { } map)
        {
            _map = new PatternSet(map.Match, ignoreCase: false, map.Keys);
            _mapOutput = map.Output;
            _mapValues = new byte[map.Values.Count][];
            _mapInts = new long[map.Values.Count];
            for (int i = 0; i < _mapValues.Length; i++)
            {
                _mapValues[i] = Encoding.UTF8.GetBytes(map.Values[i]);
                _ = long.TryParse(map.Values[i], out _mapInts[i]);
            }
            _mapDefault = map.Default is null ? null : Encoding.UTF8.GetBytes(map.Default);
        }
    }

    public bool TryConvert(SampleContext ctx, ref Sample s)
    {
        switch (_kind)
        {
            case SampleConverterKind.Add or SampleConverterKind.Sub or SampleConverterKind.Mul or SampleConverterKind.Div or SampleConverterKind.Mod:
                return TryArithmetic(ctx, ref s);
            case SampleConverterKind.IpMask:
                return TryIpMask(ctx, ref s);
            case SampleConverterKind.Map:
                return TryMap(ctx, ref s);
            case SampleConverterKind.StickTable:
                return _stick!.TryConvert(ctx, ref s);
            case SampleConverterKind.SetVar:
                // 7.3.1 "set-var": no sample unless the variable was set (its conditions held), as HAProxy's smp_conv_store.
                return ctx.SetVariableIf(_variable, s, (VarSetConditions)_number);
        }
        if (_kind == SampleConverterKind.Hex && s.Type == SampleType.Int)
        {
            // HAProxy casts an integer to binary as 8 bytes, big-endian (c_int2bin): `ssl_fc_err,hex` is 16 digits.
            Span<byte> integer = stackalloc byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(integer, s.Int);
            return ctx.ScratchFree.Length >= 16 && Str(ctx, WriteHex(integer, ctx.ScratchFree), ref s);
        }
        if (!SampleText.TryAsBytes(ctx, s, out var input)) return false;
        var dest = ctx.ScratchFree;
        int n;
        switch (_kind)
        {
            case SampleConverterKind.Lower:
                if (!SampleStrings.TryChangeCase(input, dest, upper: false)) return false;
                return Str(ctx, input.Length, ref s);
            case SampleConverterKind.Upper:
                if (!SampleStrings.TryChangeCase(input, dest, upper: true)) return false;
                return Str(ctx, input.Length, ref s);
            case SampleConverterKind.Base64:
                if (Base64.EncodeToUtf8(input, dest, out _, out n) != OperationStatus.Done) return false;
                return Str(ctx, n, ref s);
            case SampleConverterKind.B64Dec:
                if (Base64.DecodeFromUtf8(input, dest, out _, out n) != OperationStatus.Done) return false;
                s = new Sample { Type = SampleType.Bin, Bytes = ctx.Commit(n) };
                return true;
            case SampleConverterKind.Hex:
                if (dest.Length < input.Length * 2) return false;
                return Str(ctx, WriteHex(input, dest), ref s);
            case SampleConverterKind.Bytes:
                if (_number >= input.Length) return false;
                var slice = input[(int)_number..];
                if (_number2 >= 0 && _number2 < slice.Length) slice = slice[..(int)_number2];
                s = new Sample { Type = s.Type == SampleType.Bin ? SampleType.Bin : SampleType.Str, Bytes = slice };
                return true;
            case SampleConverterKind.Field:
                if (!SampleStrings.TryField(input, _text, (int)_number, (int)_number2, words: false, out var field)) return false;
                s = Sample.OfString(field);
                return true;
            case SampleConverterKind.Word:
                if (!SampleStrings.TryField(input, _text, (int)_number, (int)_number2, words: true, out var word)) return false;
                s = Sample.OfString(word);
                return true;
            case SampleConverterKind.RegSub:
                if (!SampleStrings.TryRegSub(ctx, input, _regex!, _text, _global, out n)) return false;
                return Str(ctx, n, ref s);
            case SampleConverterKind.Concat:
                return TryConcat(ctx, input, ref s);
            case SampleConverterKind.Sdbm or SampleConverterKind.Djb2 or SampleConverterKind.Crc32 or SampleConverterKind.Wt6:
                // The `hash-type` functions (src/hash.c), with `full_hash` as the optional avalanche (7.3.1 "sdbm").
                var function = _kind switch
                {
                    SampleConverterKind.Sdbm => HashFunction.Sdbm,
                    SampleConverterKind.Djb2 => HashFunction.Djb2,
                    SampleConverterKind.Crc32 => HashFunction.Crc32,
                    _ => HashFunction.Wt6,
                };
                s = Sample.OfInt(Balancing.HashFunctions.Compute(function, _hasNumber && _number != 0, input));
                return true;
            case SampleConverterKind.UrlDec:
                if (!SampleStrings.TryUrlDecode(input, dest, _hasNumber && _number != 0, out n)) return false;
                return Str(ctx, n, ref s);
            case SampleConverterKind.Length:
                s = Sample.OfInt(input.Length);
                return true;
            case SampleConverterKind.CaptureReq or SampleConverterKind.CaptureRes:
                // A slot the frontend does not have is left alone, as HAProxy does at run time.
                ctx.Captures.Set(_kind == SampleConverterKind.CaptureRes, (int)_number, input);
                s = Sample.OfString(input);
                return true;
            case SampleConverterKind.Json:
                if (!SampleStrings.TryJsonEscape(input, dest, out n)) return false;
                return Str(ctx, n, ref s);
        }
        return false;
    }

    private static bool Str(SampleContext ctx, int length, ref Sample s)
    {
        s = Sample.OfString(ctx.Commit(length));
        return true;
    }

    /// <summary>add/sub/mul/div/mod (7.3.1): 64-bit signed; div by 0 gives the largest integer, mod by 0 gives 0.</summary>
    private bool TryArithmetic(SampleContext ctx, ref Sample s)
    {
        if (!SampleText.TryAsInt(s, out long a)) return false;
        long b = _number;
        if (_hasVariable)
        {
            if (!ctx.TryGetVariable(_variable, out var v) || !SampleText.TryAsInt(v, out b)) return false;
        }
        long r = _kind switch
        {
            SampleConverterKind.Add => unchecked(a + b),
            SampleConverterKind.Sub => unchecked(a - b),
            SampleConverterKind.Mul => unchecked(a * b),
            SampleConverterKind.Div => b == 0 ? long.MaxValue : a == long.MinValue && b == -1 ? long.MinValue : a / b,
            _ => b == 0 || b == -1 ? 0 : a % b,
        };
        s = Sample.OfInt(r);
        return true;
    }

    /// <summary>ipmask(MASK4[,MASK6]): the address with its host bits cleared.</summary>
    private bool TryIpMask(SampleContext ctx, ref Sample s)
    {
        if (!SampleText.TryAsIp(ctx, s, out var ip)) return false;
        int bits = ip.Length == 4 ? (int)_number : _mask6;
        var dest = ctx.ScratchFree;
        if (dest.Length < ip.Length) return false;
        for (int i = 0; i < ip.Length; i++)
        {
            int keep = Math.Clamp(bits - i * 8, 0, 8);
            dest[i] = (byte)(ip[i] & (0xFF00 >> keep));
        }
        s = Sample.OfIp(ctx.Commit(ip.Length));
        return true;
    }

    /// <summary>concat([START],[VAR],[END]): the input, then START, the variable's value (if set) and END.</summary>
    private bool TryConcat(SampleContext ctx, ReadOnlySpan<byte> input, ref Sample s)
    {
        ReadOnlySpan<byte> middle = default;
        if (_hasVariable && ctx.TryGetVariable(_variable, out var v) && !SampleText.TryAsBytes(ctx, v, out middle)) return false;
        var dest = ctx.ScratchFree;
        int total = input.Length + _text.Length + middle.Length + _text3.Length;
        if (dest.Length < total) return false;
        input.CopyTo(dest);
        _text.CopyTo(dest[input.Length..]);
        middle.CopyTo(dest[(input.Length + _text.Length)..]);
        _text3.CopyTo(dest[(input.Length + _text.Length + middle.Length)..]);
        return Str(ctx, total, ref s);
    }

    /// <summary>map_MATCH_OUTPUT(FILE[,DEFAULT]): the value of the first matching key, else the default, else no sample.</summary>
    private bool TryMap(SampleContext ctx, ref Sample s)
    {
        int index = _map!.Find(ctx, s);
        if (index < 0)
        {
            if (_mapDefault is null) return false;
            return TypedValue(ctx, _mapDefault, SampleText.TryParseInt(_mapDefault, out long d) ? d : 0, ref s);
        }
        return TypedValue(ctx, _mapValues[index], _mapInts[index], ref s);
    }

    private bool TypedValue(SampleContext ctx, byte[] text, long number, ref Sample s)
    {
        if (_mapOutput == SampleType.Int) s = Sample.OfInt(number);
        else if (_mapOutput == SampleType.Ip && SampleText.TryAsIp(ctx, Sample.OfString(text), out var ip)) s = Sample.OfIp(ip);
        else s = Sample.OfString(text);
        return true;
    }

    /// <summary>7.3.1 "hex": upper-case digits, two per byte; returns the length written.</summary>
    private static int WriteHex(ReadOnlySpan<byte> input, Span<byte> dest)
    {
        for (int i = 0; i < input.Length; i++)
        {
            dest[2 * i] = (byte)"0123456789ABCDEF"[input[i] >> 4];
            dest[2 * i + 1] = (byte)"0123456789ABCDEF"[input[i] & 15];
        }
        return input.Length * 2;
    }
}
