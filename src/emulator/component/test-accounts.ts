/**
 * The Official Accounts WeChat's full-network release check authorises (one at random per run):
 * appid and original id of each test group.
 */
export const RELEASE_TEST_ACCOUNTS: readonly { appId: string; account: string }[] = [
  { appId: 'wx570bc396a51b8ff8', account: 'gh_3c884a361561' },
  { appId: 'wx9252c5e0bb1836fc', account: 'gh_c0f28a78b318' },
  { appId: 'wx8e1097c5bc82cde9', account: 'gh_3f222ed8d140' },
  { appId: 'wx14550af28c71a144', account: 'gh_26128078e9ab' },
  { appId: 'wxa35b9c23cfe664eb', account: 'gh_2b3713f184a6' },
];
