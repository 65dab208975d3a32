namespace KeyDoctor.Formats.Evtx;

/// <summary>Value types of BinXml substitutions and values (MS-EVEN6 2.2.12; 0x80 marks an array).</summary>
internal enum BinXmlValueType : byte
{
    Null = 0x00,
    String = 0x01,
    AnsiString = 0x02,
    Int8 = 0x03,
    UInt8 = 0x04,
    Int16 = 0x05,
    UInt16 = 0x06,
    Int32 = 0x07,
    UInt32 = 0x08,
    Int64 = 0x09,
    UInt64 = 0x0A,
    Real32 = 0x0B,
    Real64 = 0x0C,
    Bool = 0x0D,
    Binary = 0x0E,
    Guid = 0x0F,
    SizeT = 0x10,
    FileTime = 0x11,
    SystemTime = 0x12,
    Sid = 0x13,
    HexInt32 = 0x14,
    HexInt64 = 0x15,
    EvtHandle = 0x20,
    BinXml = 0x21,
    EvtXml = 0x23,
    ArrayFlag = 0x80,
}
