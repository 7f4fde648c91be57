/* placeholder until the runner lands */
#include <stdio.h>
int main(void)
{
    puts("pyscope-run " PYSCOPE_VERSION);
    return 0;
}
