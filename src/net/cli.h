/* Moved to src/cli/cli.h (the programs' command-line helpers are not part
 * of the library); this forwarder goes once every includer is updated. */
#include "cli/cli.h"
