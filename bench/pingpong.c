/* bench/pingpong.c - placeholder (issue 3). */
int main(void) { return 0; }
