/* placeholder until the CLI lands */
#include <stdio.h>
int main(void)
{
    puts("pyscope " PYSCOPE_VERSION);
    return 0;
}
