/* fuzz_json.c - libFuzzer harness for the JSON validator (src/light/json.c).
 * Any input must return a status without crashing, reading out of bounds or
 * recursing past JSON_MAX_DEPTH; a text accepted as an object must begin,
 * after whitespace, with '{'. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "light/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    enum json_kind kind;
    if (json_validate(data, size, &kind) == COAPS_OK && kind == JSON_OBJECT) {
        size_t i = 0;
        while (i < size && (data[i] == ' ' || data[i] == '\t' || data[i] == '\r' || data[i] == '\n'))
            i++;
        if (i == size || data[i] != '{')
            abort();
    }
    return 0;
}
