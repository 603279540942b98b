/* A stand-in for Windows' bcryptprimitives.dll, which Wine 8 lacks.
 *
 * Rust's std for Windows imports ProcessPrng from bcryptprimitives.dll to seed its
 * hash maps; without it a Windows test binary fails to start under Wine 8. This DLL
 * exports that one function and fills the buffer from RtlGenRandom (SystemFunction036
 * in advapi32), which Wine has. Built by .ci/run with mingw and copied into the Wine
 * prefix's system32; used only to run the test suite under Wine, never shipped. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x40000000 ? 0x40000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
