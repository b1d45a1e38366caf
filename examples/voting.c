/* examples/voting.c - placeholder while the example is written. */
int main(void) { return 0; }
