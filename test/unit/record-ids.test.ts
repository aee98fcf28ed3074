import { RecordIds } from '../../src/store/record-ids';

describe('record ids', () => {
  // a user's shard is where their data lives for as long as it lives: it must never change
  it.each([
    ['oUSER_many_0', [2, 220, 114]],
    ['o6_bmjrPTlm6_2sgVt7hMZOPfL2M', [2, 43, 34]],
    ['', [5, 237, 197]],
    ['用户', [1, 235, 185]],
    ['é-mixed-ü', [5, 134, 141]],
    ['🙂x', [1, 112, 73]],
  ])('puts user %j in the same shard as ever (8, 251 and 256 shards)', (user, shards) => {
    expect([8, 251, 256].map((n) => new RecordIds(n).shardOfUser(user))).toEqual(shards);
  });

  it('names the account and the user’s shard in a new id', () => {
    const ids = new RecordIds(8);
    const id = ids.newId('wxc0ffee0000000001', 'oUSER_many_0');
    expect(ids.parse(id)).toEqual({ account: 'wxc0ffee0000000001', shard: 2 });
  });
});
